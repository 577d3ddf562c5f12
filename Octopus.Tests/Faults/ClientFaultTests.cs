using System.Diagnostics;
using System.Net;
using System.Text;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Faults;

/// <summary>Clients that go away, read slowly, or arrive a thousand at once.</summary>
public sealed class ClientFaultTests
{
    private static readonly GroupSettings Patient = FaultRig.Quick with { StreamIdleTimeoutSeconds = 60, FirstEventTimeoutSeconds = 30, ResponseTimeoutSeconds = 30 };

    [Fact]
    public async Task Client_disconnect_mid_stream_cancels_the_upstream_request_within_100_ms_and_leaks_nothing()
    {
        await using var rig = await FaultRig.StartAsync(settings: Patient);
        // The upstream sends its first content, then holds the stream open: only a cancellation can end its request.
        rig.Bad.Behave = r =>
        {
            var reply = rig.Bad.DefaultReply(r);
            return reply with { StallAfter = reply.Events!.ToList().FindIndex(e => e.Contains("Hel")) + 1 };
        };
        const int trials = 5;
        var delays = new List<double>();
        // A client that really goes away: HttpClient's default would first drain the response for up to 2 s.
        using var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0 };
        using var http = new HttpClient(handler) { BaseAddress = rig.Client.BaseAddress };
        http.DefaultRequestHeaders.Authorization = rig.Client.DefaultRequestHeaders.Authorization;

        for (var i = 0; i < trials; i++)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("solo", $"trial {i}", stream: true) };
            var res = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            var stream = await res.Content.ReadAsStreamAsync();
            Assert.True(await stream.ReadAsync(new byte[256]) > 0);
            var closedAt = DateTimeOffset.UtcNow;
            res.Dispose(); // the client goes away mid-stream

            await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(rig.Bad.Aborted.Count == i + 1), 3000);
            delays.Add((rig.Bad.Aborted.Last().At - closedAt).TotalMilliseconds);
        }

        delays.Sort();
        // The median, so one scheduling hiccup on a busy CI machine does not decide; every trial stays well under a second.
        Assert.True(delays[trials / 2] < 100, $"upstream cancelled after {string.Join(", ", delays.Select(d => $"{d:0} ms"))}");
        Assert.True(delays[^1] < 1000, $"upstream cancelled after {string.Join(", ", delays.Select(d => $"{d:0} ms"))}");
        // No upstream request is left open and every relay task finished: each request has its log line.
        await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(rig.Bad.InFlight == 0));
        var logs = await rig.LogsAsync(trials);
        Assert.All(logs, l =>
        {
            Assert.Equal(499, l.Status);
            Assert.Equal("client closed the request", l.Error);
            Assert.Equal("bad", l.ChannelName);
        });
        Assert.Equal((0, trials), (rig.Counted("solo", rig.BadChannel).Ok, rig.Counted("solo", rig.BadChannel).Failed));
    }

    [Fact]
    public async Task A_slow_reader_stalls_the_upstream_instead_of_buffering_the_stream()
    {
        await using var rig = await FaultRig.StartAsync(settings: Patient);
        // 64 MiB of content in 16 KiB chunks, sent as fast as the relay takes them (one string, repeated).
        var chunk = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
            + new string('x', 16 * 1024) + "\"},\"finish_reason\":null}]}\n\n";
        const int chunks = 4096;
        var events = new List<string>(chunks + 2);
        events.AddRange(Enumerable.Repeat(chunk, chunks));
        events.Add("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        events.Add("data: [DONE]\n\n");
        var total = (long)chunk.Length * chunks;
        rig.Bad.Behave = _ => new MockUpstream.Reply { Events = events };

        var req = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("solo", stream: true) };
        using var res = await rig.Client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await res.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long received = await stream.ReadAsync(buffer);

        // The client stops reading. The upstream gets only as far as the socket and pipe buffers allow, then waits.
        await Task.Delay(1500);
        var sentWhileStalled = rig.Bad.BytesSent;
        await Task.Delay(1000);
        Assert.Equal(sentWhileStalled, rig.Bad.BytesSent);
        Assert.True(sentWhileStalled < total / 2, $"upstream sent {sentWhileStalled / 1024 / 1024} MiB of {total / 1024 / 1024} MiB to a client that read {received / 1024} KiB");

        // Reading on, the client gets the whole stream.
        var tail = new Queue<byte>();
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            received += n;
            for (var i = Math.Max(0, n - 64); i < n; i++)
            {
                tail.Enqueue(buffer[i]);
                if (tail.Count > 64) tail.Dequeue();
            }
        }
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(tail.ToArray()));
        Assert.True(received > total, $"client got {received} bytes, upstream content was {total}");

        var log = await rig.LogAsync();
        Assert.Equal(200, log.Status);
        Assert.Null(log.Error);
        Assert.Equal(1, rig.Counted("solo", rig.BadChannel).Ok);
    }

    [Fact]
    public async Task A_thousand_concurrent_streams_all_complete_and_are_all_counted_and_logged()
    {
        await using var rig = await FaultRig.StartAsync(settings: Patient);
        const int n = 1000;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = n, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        using var http = new HttpClient(handler) { BaseAddress = rig.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = rig.Client.DefaultRequestHeaders.Authorization;
        using var start = new SemaphoreSlim(0, n);

        var sw = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, n).Select(async i =>
        {
            await start.WaitAsync();
            using var res = await http.PostAsync("/v1/chat/completions", Chat("g", $"stream {i}", stream: true));
            return ((int)res.StatusCode, Relay.RelayStreamingTests.OpenAIStreamText(await res.Content.ReadAsStringAsync()));
        }).ToList();
        start.Release(n);
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal((200, "Hello from bad"), r));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed}");
        Assert.Equal(n, rig.Bad.Count);
        Assert.Equal((n, 0), rig.CountedAll());
        Assert.Equal(n * (long)Wire.OutputTokens, rig.Counted("g", rig.BadChannel).Output);
        var writer = rig.Host.Get<RequestLogWriter>();
        await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(writer.Written == n), 15_000);
        Assert.Equal(0, writer.Dropped);
        await Relay.RelayFailoverTests.WaitUntil(() => Task.FromResult(rig.Bad.InFlight == 0));
    }
}
