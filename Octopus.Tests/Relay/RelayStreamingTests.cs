using System.Diagnostics;
using System.Net;
using System.Text;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

public sealed class RelayStreamingTests
{
    private static readonly GroupSettings Quick = new() { AffinitySeconds = 0, FirstEventTimeoutSeconds = 1, ResponseTimeoutSeconds = 2, CooldownSeconds = 0, StreamIdleTimeoutSeconds = 1 };
    // For tests that are not about timeouts: a loaded 2-core CI machine can take over a second to a first event.
    private static readonly GroupSettings Patient = Quick with { FirstEventTimeoutSeconds = 15, ResponseTimeoutSeconds = 15, StreamIdleTimeoutSeconds = 15 };

    /// <summary>The text a client assembles from an OpenAI Chat stream.</summary>
    internal static string OpenAIStreamText(string sse)
    {
        var text = new StringBuilder();
        foreach (var line in sse.Split('\n'))
        {
            if (!line.StartsWith("data: {")) continue;
            using var doc = System.Text.Json.JsonDocument.Parse(line[6..]);
            if (!doc.RootElement.TryGetProperty("choices", out var choices)) continue;
            foreach (var c in choices.EnumerateArray())
                if (c.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.String)
                    text.Append(t.GetString());
        }
        return text.ToString();
    }

    private static async Task<string> ReadAllAsync(HttpResponseMessage res) => await res.Content.ReadAsStringAsync();

    [Fact]
    public async Task Stream_passes_events_through_byte_for_byte_apart_from_the_usage_chunk_the_client_did_not_ask_for()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 1);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0])], Patient);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g", stream: true));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("text/event-stream", res.Content.Headers.ContentType!.MediaType);
        var body = await ReadAllAsync(res);

        // Octopus asked upstream for usage...
        var upstreamBody = mocks[0].Requests.Single().Json;
        Assert.True(upstreamBody.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        // ...and the client, which did not ask, sees exactly the upstream events (with their `"usage":null`) minus the
        // usage-only chunk.
        var upstreamEvents = Wire.OpenAIChatStream("upstream-model", "Hello from m0", includeUsage: true);
        var expected = string.Concat(upstreamEvents.Where(e => !e.Contains("\"choices\":[]")));
        Assert.Equal(upstreamEvents.Count - 1, upstreamEvents.Count(e => !e.Contains("\"choices\":[]")));
        Assert.Equal(expected, body);
        await mocks[0].DisposeAsync();
    }

    [Fact]
    public async Task Stream_keeps_the_usage_chunk_when_the_client_asked_for_it()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 1);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0])], Patient);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        var req = """{"model":"g","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";

        var res = await client.PostAsync("/v1/chat/completions", new StringContent(req, Encoding.UTF8, "application/json"));
        var body = await ReadAllAsync(res);
        Assert.Equal(string.Concat(Wire.OpenAIChatStream("upstream-model", "Hello from m0", includeUsage: true)), body);
        // Only the model changed in what went upstream.
        Assert.Equal(req.Replace("\"model\":\"g\"", "\"model\":\"upstream-model\""), mocks[0].Requests.Single().BodyText);
        await mocks[0].DisposeAsync();
    }

    [Fact]
    public async Task Stream_first_event_timeout_moves_to_the_next_member()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[0].Behave = _ => new MockUpstream.Reply { HeadersThenSilence = true };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g", stream: true));
        Assert.Equal("Hello from m1", OpenAIStreamText(await ReadAllAsync(res)));
        Assert.Equal(1, mocks[1].Count);
    }

    [Fact]
    public async Task Pings_and_role_only_deltas_do_not_count_as_first_content()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        // Upstream 0 sends a role-only delta and keep-alive comments, then nothing.
        mocks[0].Behave = r =>
        {
            var events = Wire.OpenAIChatStream("x", "never", includeUsage: false);
            return new MockUpstream.Reply { Events = [events[0], ": keep-alive\n\n", ": keep-alive\n\n", events[1]], StallAfter = 3, DelayBetweenEvents = TimeSpan.FromMilliseconds(300) };
        };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var body = await ReadAllAsync(await client.PostAsync("/v1/chat/completions", Chat("g", stream: true)));
        Assert.Equal("Hello from m1", OpenAIStreamText(body));
    }

    [Fact]
    public async Task No_retry_after_the_first_byte_a_cut_stream_ends_with_an_error_event()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[0].Behave = r => mocks[0].DefaultReply(r) with { CutAfter = 3, DelayBetweenEvents = TimeSpan.FromMilliseconds(150) };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g", stream: true));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var body = await ReadAllAsync(res);
        Assert.True(body.Contains("Hell"), body);      // content from the first member reached the client
        Assert.True(body.Contains("\"error\""), body); // then an in-band error event
        Assert.Equal(0, mocks[1].Count);               // and no second attempt
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task A_stalled_stream_is_ended_by_the_idle_timeout()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 1);
        mocks[0].Behave = r => mocks[0].DefaultReply(r) with { StallAfter = 3 };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0])], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var sw = Stopwatch.StartNew();
        var body = await ReadAllAsync(await client.PostAsync("/v1/chat/completions", Chat("g", stream: true)));
        Assert.Contains("stalled", body);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
        await mocks[0].DisposeAsync();
    }

    [Fact]
    public async Task Client_disconnect_cancels_the_upstream_request()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 1);
        mocks[0].Behave = r => mocks[0].DefaultReply(r) with { DelayBetweenEvents = TimeSpan.FromSeconds(1) };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0])], Quick with { StreamIdleTimeoutSeconds = 30 });
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var req = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("g", stream: true) };
        var res = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        var stream = await res.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        var closedAt = DateTimeOffset.UtcNow;
        res.Dispose(); // the client goes away mid-stream

        await RelayFailoverTests.WaitUntil(() => Task.FromResult(!mocks[0].Aborted.IsEmpty), 3000);
        var abortedAt = mocks[0].Aborted.Single().At;
        // Upstream sees the cancellation as soon as it next writes (its events are 1 s apart).
        Assert.True(abortedAt - closedAt < TimeSpan.FromMilliseconds(1500), $"upstream cancelled after {(abortedAt - closedAt).TotalMilliseconds} ms");
        await mocks[0].DisposeAsync();
    }

    [Theory]
    [InlineData("anthropic", "/v1/messages")]
    [InlineData("openai_responses", "/v1/responses")]
    [InlineData("gemini", "/v1beta/models/g:streamGenerateContent?alt=sse")]
    public async Task Streams_of_every_protocol_pass_through_unchanged(string typeName, string path)
    {
        Assert.True(ChannelTypes.TryParse(typeName, out var type));
        await using var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("m");
        var ch = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)], Patient);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        var json = type switch
        {
            ChannelType.Anthropic => """{"model":"g","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""",
            ChannelType.OpenAIResponses => """{"model":"g","stream":true,"input":"hi"}""",
            _ => """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""",
        };

        var res = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var expected = type switch
        {
            ChannelType.Anthropic => Wire.AnthropicStream("upstream-model", "Hello from m"),
            ChannelType.OpenAIResponses => Wire.ResponsesStream("upstream-model", "Hello from m"),
            _ => Wire.GeminiStream("upstream-model", "Hello from m"),
        };
        Assert.Equal(string.Concat(expected), await ReadAllAsync(res));
        if (type == ChannelType.Gemini) Assert.EndsWith("/models/upstream-model:streamGenerateContent", mock.Requests.Single().Path);
        await mock.DisposeAsync();
    }
}
