using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// A converted stream whose upstream sends a malformed event after content has reached the client: the client gets
/// what came before, then one in-band error event in its own protocol, and the stream closes (no normal ending),
/// even though the upstream keeps sending. The request is logged as failed.
/// </summary>
public sealed class StreamFailureConversionTests
{
    private static async Task<(RelayHost Host, MockUpstream Mock, string Key)> SetupAsync(ChannelType type, Func<MockUpstream, MockUpstream.Received, MockUpstream.Reply> behave)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("sdk");
        mock.Behave = r => behave(mock, r);
        var channel = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel)]);
        return (host, mock, await host.AddApiKeyAsync());
    }

    /// <summary>The default stream with a torn event spliced in after <paramref name="after"/> events; the rest still follows.</summary>
    private static MockUpstream.Reply Broken(MockUpstream mock, MockUpstream.Received r, int after, string torn)
    {
        var events = mock.DefaultReply(r).Events!.ToList();
        events.Insert(after, torn);
        return new MockUpstream.Reply { Events = events, DelayBetweenEvents = TimeSpan.FromMilliseconds(20) };
    }

    private static MockUpstream.Reply BrokenOpenAI(MockUpstream mock, MockUpstream.Received r) =>
        // role chunk + two content pieces ("Hell" "o fr"), then a chunk cut off mid-JSON.
        Broken(mock, r, 3, "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"dk\n\n");

    private static MockUpstream.Reply BrokenAnthropic(MockUpstream mock, MockUpstream.Received r) =>
        // message_start, block start, ping, two text deltas, then a delta cut off mid-JSON.
        Broken(mock, r, 5, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del\n\n");

    private static List<(string? Event, string Data)> Events(string sse)
    {
        var list = new List<(string?, string)>();
        foreach (var block in sse.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ")) name = line[7..];
                else if (line.StartsWith("data: ")) data.Append(line[6..]);
            }
            list.Add((name, data.ToString()));
        }
        return list;
    }

    private static async Task<RequestLog> LoggedAsync(RelayHost host)
    {
        var store = host.Get<RequestLogStore>();
        for (var i = 0; i < 100; i++)
        {
            var page = await store.QueryAsync(new RequestLogFilter { Limit = 10 }, default);
            if (page.Items.Count > 0) return Assert.Single(page.Items);
            await Task.Delay(100);
        }
        throw new TimeoutException("the request was never logged");
    }

    [Fact]
    public async Task Anthropic_client_on_an_OpenAI_channel_gets_an_error_event_and_a_closed_stream()
    {
        var (host, mock, key) = await SetupAsync(ChannelType.OpenAI, BrokenOpenAI);
        await using var _ = host;
        await using var __ = mock;
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-api-key", key);

        using var res = await client.PostAsync("/v1/messages", new StringContent(
            """{"model":"g","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var events = Events(await res.Content.ReadAsStringAsync());

        Assert.Equal("message_start", events[0].Event);
        var text = string.Concat(events.Where(e => e.Event == "content_block_delta")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal("Hello fr", text);
        var (last, data) = events[^1];
        Assert.Equal("error", last);
        var error = JsonDocument.Parse(data).RootElement;
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal("api_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(events, e => e.Event is "message_stop" or "message_delta");
        Assert.Single(events, e => e.Event == "error");

        var log = await LoggedAsync(host);
        Assert.Equal(200, log.Status);
        Assert.False(string.IsNullOrEmpty(log.Error));
    }

    [Fact]
    public async Task OpenAI_client_on_an_Anthropic_channel_gets_an_error_chunk_and_a_closed_stream()
    {
        var (host, mock, key) = await SetupAsync(ChannelType.Anthropic, BrokenAnthropic);
        await using var _ = host;
        await using var __ = mock;
        using var client = host.ClientFor(key);

        using var res = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"g","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var body = await res.Content.ReadAsStringAsync();
        var events = Events(body);

        Assert.Equal("Hello fr", RelayStreamingTests.OpenAIStreamText(body));
        var error = JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        Assert.DoesNotContain(events, e => e.Data.Contains("\"finish_reason\":\"stop\""));

        var log = await LoggedAsync(host);
        Assert.False(string.IsNullOrEmpty(log.Error));
    }

    [Theory]
    [InlineData("anthropic-messages-stream-broken", "openai")]
    [InlineData("openai-chat-stream-broken", "anthropic")]
    public async Task SDKs_surface_the_in_band_error_after_the_text_they_got(string scenario, string channelType)
    {
        Assert.True(ChannelTypes.TryParse(channelType, out var type));
        var (host, mock, key) = await SetupAsync(type, type == ChannelType.OpenAI ? BrokenOpenAI : BrokenAnthropic);
        await using var _ = host;
        await using var __ = mock;

        var sdk = await SdkClient.RunAsync(scenario, host.BaseUrl, key, "g");

        Assert.Equal("Hello fr", sdk.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.String, sdk.GetProperty("error").ValueKind);
        Assert.Contains("stream", sdk.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        if (scenario.StartsWith("anthropic")) Assert.Equal("api_error", sdk.GetProperty("type").GetString());
    }
}
