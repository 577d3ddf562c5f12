using System.Diagnostics;
using System.Net;
using System.Text;
using Octopus.Domain;
using Octopus.Relay.Health;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Faults;

/// <summary>
/// Upstream faults end to end: every case checks what the client got, the request log line with its attempts, and
/// what the stats count. Group "g" fails over from the bad member to the good one; group "solo" has nowhere to go.
/// </summary>
public sealed class UpstreamFaultTests
{
    private static async Task<string> Text(HttpResponseMessage res) => await res.Content.ReadAsStringAsync();

    private static string ErrorMessage(string body) => FaultRig.Parse(body).GetProperty("error").GetProperty("message").GetString()!;

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task Upstream_5xx_fails_over_and_the_log_shows_both_attempts(int status)
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        rig.Bad.Behave = _ => new MockUpstream.Reply { Status = status, Body = """{"error":{"message":"upstream trouble"}}""" };

        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("Hello from good", await Text(ok));
        var failed = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo"));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        var message = ErrorMessage(await Text(failed));
        Assert.Contains("solo", message);
        Assert.Contains($"upstream {status}: upstream trouble", message);
        Assert.DoesNotContain("sk-upstream", message);

        var logs = await rig.LogsAsync(2);
        var served = logs.Single(l => l.GroupName == "g");
        Assert.Equal(200, served.Status);
        Assert.Null(served.Error);
        Assert.Equal("good", served.ChannelName);
        Assert.Equal(Wire.OutputTokens, served.OutputTokens);
        Assert.Equal([status, 200], served.Attempts.Select(a => a.Status));
        Assert.Equal(["bad", "good"], served.Attempts.Select(a => a.ChannelName));
        Assert.Contains($"upstream {status}", served.Attempts[0].Error);
        var exhausted = logs.Single(l => l.GroupName == "solo");
        Assert.Equal(502, exhausted.Status);
        Assert.Equal("bad", exhausted.ChannelName);
        Assert.Contains($"upstream {status}", exhausted.Error);
        Assert.Equal([status], exhausted.Attempts.Select(a => a.Status));

        Assert.Equal((1, 0, Wire.PromptTokens, Wire.OutputTokens), rig.Counted("g", rig.GoodChannel));
        Assert.Equal((0, 0), (rig.Counted("g", rig.BadChannel).Ok, rig.Counted("g", rig.BadChannel).Failed));
        Assert.Equal((0, 1, 0, 0), rig.Counted("solo", rig.BadChannel));
    }

    [Fact]
    public async Task Upstream_429_with_retry_after_cools_the_key_down_for_that_long()
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        rig.Bad.Behave = _ => new MockUpstream.Reply { Status = 429, Body = """{"error":{"message":"slow down"}}""", Headers = { ["retry-after"] = "40" } };

        Assert.Equal(HttpStatusCode.OK, (await rig.Client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        var state = rig.Host.Get<KeyPool>().StateOf(rig.BadChannel.Keys[0]);
        var coolsFor = DateTimeOffset.FromUnixTimeMilliseconds(state.CoolingUntil) - DateTimeOffset.UtcNow;
        Assert.InRange(coolsFor.TotalSeconds, 35, 41);
        Assert.False(state.SetAside); // rate limited is not broken

        // While the key cools, the bad member is not asked at all.
        Assert.Equal(HttpStatusCode.OK, (await rig.Client.PostAsync("/v1/chat/completions", Chat("g", "again"))).StatusCode);
        Assert.Equal(1, rig.Bad.Count);
        // With nowhere else to go the client hears it is rate limited, and for how long, in its own protocol.
        var solo = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo"));
        Assert.Equal(HttpStatusCode.TooManyRequests, solo.StatusCode);
        Assert.InRange(int.Parse(solo.Headers.GetValues("retry-after").Single()), 30, 41);
        Assert.Equal("rate_limit_error", FaultRig.Parse(await Text(solo)).GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(1, rig.Bad.Count);

        var logs = await rig.LogsAsync(3);
        var first = logs[^1];
        Assert.Equal([429, 200], first.Attempts.Select(a => a.Status));
        Assert.Contains("slow down", first.Attempts[0].Error);
        Assert.Equal(["good"], logs[1].Attempts.Select(a => a.ChannelName));
        Assert.Equal(429, logs[0].Status);
        Assert.Empty(logs[0].Attempts);
        Assert.Equal(2, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", null).Failed);
    }

    [Fact]
    public async Task Connection_refused_fails_over_at_once_and_is_logged_as_a_connection_failure()
    {
        var port = Relay.RelayFailoverTests.ClosedPort();
        await using var rig = await FaultRig.StartAsync(badUrl: $"http://127.0.0.1:{port}/v1", settings: FaultRig.Patient);

        var sw = Stopwatch.StartNew();
        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // Far below the 30 s timeouts: a refused connection fails over at once instead of waiting.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.ElapsedMilliseconds} ms");
        var failed = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo", stream: true));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("connection refused", ErrorMessage(await Text(failed)));

        var logs = await rig.LogsAsync(2);
        Assert.Equal([0, 200], logs[1].Attempts.Select(a => a.Status));
        Assert.Contains("connection refused", logs[1].Attempts[0].Error);
        Assert.Equal(502, logs[0].Status);
        Assert.True(logs[0].Stream);
        Assert.Equal(1, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    [Fact]
    public async Task A_silent_port_times_out_connecting_and_the_exhausted_group_answers_504()
    {
        var (port, holder) = FaultRig.SilentPort();
        await using var rig = await FaultRig.StartAsync(badUrl: $"http://127.0.0.1:{port}/v1");
        rig.Own(holder);

        var sw = Stopwatch.StartNew();
        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 5); // the 1 s response timeout, then the backup
        var failed = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, failed.StatusCode);
        Assert.Contains("no response within 1 s", ErrorMessage(await Text(failed)));

        var logs = await rig.LogsAsync(2);
        Assert.Equal([0, 200], logs[1].Attempts.Select(a => a.Status));
        Assert.InRange(logs[1].Attempts[0].DurationMs, 900, 5000);
        Assert.Equal(504, logs[0].Status);
        Assert.Equal(1, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Headers_never_sent_time_out_and_fail_over(bool stream)
    {
        await using var rig = await FaultRig.StartAsync();
        rig.Bad.Behave = _ => stream ? new MockUpstream.Reply { HeadersThenSilence = true } : new MockUpstream.Reply { DelayBeforeHeaders = TimeSpan.FromMinutes(5) };

        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g", stream: stream));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("from good", stream ? Relay.RelayStreamingTests.OpenAIStreamText(await Text(ok)) : await Text(ok));
        var failed = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo", stream: stream));
        Assert.Equal(HttpStatusCode.GatewayTimeout, failed.StatusCode);

        var logs = await rig.LogsAsync(2);
        // A stream's headers arrive but no content does: the upstream said 200, the attempt still failed on time.
        Assert.Equal([stream ? 200 : 0, 200], logs[1].Attempts.Select(a => a.Status));
        Assert.Contains(stream ? "no content within 1 s" : "no response within 1 s", logs[1].Attempts[0].Error);
        Assert.Equal(504, logs[0].Status);
        // The silent upstream's request was abandoned, not left open.
        await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(rig.Bad.InFlight == 0));
        Assert.Equal(1, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    /// <summary>The protocols a client can stream in, with the request that asks for a stream.</summary>
    public static TheoryData<string, string, string> StreamProtocols => new()
    {
        { "openai", "/v1/chat/completions", """{"model":"solo","stream":true,"messages":[{"role":"user","content":"hi"}]}""" },
        { "anthropic", "/v1/messages", """{"model":"solo","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""" },
        { "openai_responses", "/v1/responses", """{"model":"solo","stream":true,"input":"hi"}""" },
        { "gemini", "/v1beta/models/solo:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""" },
    };

    /// <summary>Asserts the body ends with the protocol's own in-band error event naming <paramref name="what"/>.</summary>
    private static void AssertEndsWithErrorEvent(string type, string body, string what)
    {
        var data = FaultRig.DataLines(body);
        var last = FaultRig.Parse(data[^1]);
        switch (type)
        {
            case "anthropic":
                Assert.EndsWith("\n\n", body);
                Assert.Contains("event: error\ndata: ", body);
                Assert.Equal("error", last.GetProperty("type").GetString());
                Assert.Contains(what, last.GetProperty("error").GetProperty("message").GetString());
                break;
            case "openai_responses":
                Assert.Equal("response.failed", last.GetProperty("type").GetString());
                Assert.Contains(what, last.GetProperty("response").GetProperty("error").GetProperty("message").GetString());
                break;
            default:
                Assert.Contains(what, last.GetProperty("error").GetProperty("message").GetString());
                break;
        }
        // Nothing after the error event: the stream is closed cleanly, not left hanging or cut.
        Assert.EndsWith("\n\n", body);
    }

    [Theory]
    [MemberData(nameof(StreamProtocols))]
    public async Task A_stream_cut_mid_way_ends_with_a_protocol_error_event_and_the_log_keeps_the_partial_usage(string typeName, string path, string json)
    {
        Assert.True(ChannelTypes.TryParse(typeName, out var type));
        await using var rig = await FaultRig.StartAsync(type, settings: FaultRig.Patient);
        // Cut after the first content (and, where the protocol sends it early, the usage so far).
        rig.Bad.Behave = r =>
        {
            var reply = rig.Bad.DefaultReply(r);
            var firstText = reply.Events!.ToList().FindIndex(e => e.Contains("Hel"));
            return reply with { CutAfter = firstText + 1 };
        };

        var res = await rig.Client.PostAsync(path, FaultRig.Json(json));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var body = await Text(res);
        Assert.Contains("Hel", body);
        AssertEndsWithErrorEvent(typeName, body, "upstream stream");

        var log = await rig.LogAsync();
        Assert.Equal(200, log.Status);
        Assert.Contains("upstream stream", log.Error);
        Assert.Equal([200], log.Attempts.Select(a => a.Status));
        Assert.Equal(0, rig.Good.Count); // no retry after content reached the client
        // What the upstream reported before the cut (Anthropic and Responses... report input at the start) is kept.
        if (type == ChannelType.Anthropic) Assert.Equal((Wire.PromptTokens, Wire.CachedTokens), (log.InputTokens, log.CacheReadTokens));
        var counted = rig.Counted("solo", rig.BadChannel);
        Assert.Equal((0, 1), (counted.Ok, counted.Failed));
        Assert.Equal(log.InputTokens, counted.Input);
    }

    [Theory]
    [MemberData(nameof(StreamProtocols))]
    public async Task A_stream_stalled_mid_way_is_ended_by_the_idle_timeout_with_a_protocol_error_event(string typeName, string path, string json)
    {
        Assert.True(ChannelTypes.TryParse(typeName, out var type));
        await using var rig = await FaultRig.StartAsync(type, settings: FaultRig.Patient with { StreamIdleTimeoutSeconds = 1 });
        rig.Bad.Behave = r =>
        {
            var reply = rig.Bad.DefaultReply(r);
            return reply with { StallAfter = reply.Events!.ToList().FindIndex(e => e.Contains("Hel")) + 1 };
        };

        var sw = Stopwatch.StartNew();
        var res = await rig.Client.PostAsync(path, FaultRig.Json(json));
        var body = await Text(res);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 6); // stream_idle_timeout_seconds = 1
        AssertEndsWithErrorEvent(typeName, body, "stalled");

        var log = await rig.LogAsync();
        Assert.Contains("stalled: nothing for 1 s", log.Error);
        Assert.Equal([200], log.Attempts.Select(a => a.Status));
        await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(rig.Bad.InFlight == 0));
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    [Fact]
    public async Task Malformed_JSON_from_upstream_is_a_failed_attempt_not_a_reply()
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        rig.Bad.Behave = _ => new MockUpstream.Reply { Body = """{"id":"chatcmpl-1","choices":[{"message":{"content":"trunc""" };

        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("Hello from good", await Text(ok));
        var failed = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo"));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("not valid JSON", ErrorMessage(await Text(failed)));

        var logs = await rig.LogsAsync(2);
        Assert.Equal([200, 200], logs[1].Attempts.Select(a => a.Status));
        Assert.Contains("not valid JSON", logs[1].Attempts[0].Error);
        Assert.Equal(502, logs[0].Status);
        Assert.Equal(1, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    [Fact]
    public async Task Malformed_SSE_before_content_fails_over_and_after_content_ends_with_an_error_event()
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        var before = true;
        rig.Bad.Behave = r =>
        {
            var events = rig.Bad.DefaultReply(r).Events!.ToList();
            if (before) return new MockUpstream.Reply { Events = ["data: {\"id\":\"x\",\"choices\":[{\"delta\":{\"content\":\"tr\n\n", .. events] };
            events.Insert(2, "data: {not json at all\n\n");
            // Apart in time, so the garbage arrives after the first content was committed to the client.
            return new MockUpstream.Reply { Events = events, DelayBetweenEvents = TimeSpan.FromMilliseconds(100) };
        };

        var ok = await rig.Client.PostAsync("/v1/chat/completions", Chat("g", stream: true));
        Assert.Equal("Hello from good", Relay.RelayStreamingTests.OpenAIStreamText(await Text(ok)));
        before = false;
        var cut = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo", stream: true));
        Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
        var body = await Text(cut);
        AssertEndsWithErrorEvent("openai", body, "malformed");
        Assert.DoesNotContain("not json at all", body);

        var logs = await rig.LogsAsync(2);
        Assert.Equal(["bad", "good"], logs[1].Attempts.Select(a => a.ChannelName));
        Assert.Contains("malformed", logs[1].Attempts[0].Error);
        Assert.Contains("malformed", logs[0].Error);
        Assert.Equal(1, rig.Counted("g", rig.GoodChannel).Ok);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Failed);
    }

    [Fact]
    public async Task Good_events_that_arrive_with_garbage_after_content_still_reach_the_client_before_the_error()
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        rig.Bad.Behave = r =>
        {
            var events = rig.Bad.DefaultReply(r).Events!.ToList();
            // One write (so one read at the relay) carries a good chunk and then garbage, after content was committed.
            events.Insert(2, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" and more\"},\"finish_reason\":null}]}\n\n"
                + "data: {not json at all\n\n");
            return new MockUpstream.Reply { Events = events, DelayBetweenEvents = TimeSpan.FromMilliseconds(100) };
        };

        var res = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo", stream: true));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var body = await Text(res);
        AssertEndsWithErrorEvent("openai", body, "malformed");
        var good = body.IndexOf(" and more", StringComparison.Ordinal);
        Assert.True(good > 0, body);
        Assert.True(good < body.IndexOf("malformed", StringComparison.Ordinal), body);
        Assert.DoesNotContain("not json at all", body);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_multi_megabyte_reply_arrives_whole_and_is_counted(bool stream)
    {
        await using var rig = await FaultRig.StartAsync(settings: FaultRig.Patient);
        var text = string.Concat(Enumerable.Range(0, 200_000).Select(i => $"w{i % 10} ")); // ≈ 0.6 MB of text
        var big = string.Concat(Enumerable.Repeat(text, 8)); // ≈ 4.8 MB
        rig.Bad.Behave = r => stream
            ? new MockUpstream.Reply { Events = Wire.OpenAIChatStream("upstream-model", new Wire.Answer(big), includeUsage: true) }
            : new MockUpstream.Reply { Body = Wire.OpenAIChatJson("upstream-model", big) };

        var res = await rig.Client.PostAsync("/v1/chat/completions", Chat("solo", stream: stream));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var body = await Text(res);
        var got = stream
            ? Relay.RelayStreamingTests.OpenAIStreamText(body)
            : FaultRig.Parse(body).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        Assert.Equal(big.Length, got!.Length);
        Assert.Equal(big, got);

        var log = await rig.LogAsync();
        Assert.Equal(200, log.Status);
        Assert.Null(log.Error);
        Assert.Equal(Wire.OutputTokens, log.OutputTokens);
        Assert.Equal((1, 0, Wire.PromptTokens, Wire.OutputTokens), rig.Counted("solo", rig.BadChannel));
    }
}
