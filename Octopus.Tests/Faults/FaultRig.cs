using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Faults;

/// <summary>
/// A real Octopus with two upstreams: a "bad" member tried first (priority 0) that the test makes misbehave and a
/// "good" backup (priority 1) in group "g", plus group "solo" holding only the bad member (so exhaustion shows).
/// Gives what each fault test asserts: the client's reply, the request log line (with its attempts) and the counts.
/// </summary>
internal sealed class FaultRig : IAsyncDisposable
{
    public static readonly GroupSettings Quick = new()
    {
        AffinitySeconds = 0, FirstEventTimeoutSeconds = 1, ResponseTimeoutSeconds = 1, CooldownSeconds = 0, StreamIdleTimeoutSeconds = 1,
        AttemptsPerMember = 1, RetryIntervalMs = 0,
    };

    /// <summary>For faults that are not about time: timeouts far above what a loaded CI machine needs.</summary>
    public static readonly GroupSettings Patient = Quick with { FirstEventTimeoutSeconds = 30, ResponseTimeoutSeconds = 30, StreamIdleTimeoutSeconds = 30 };

    public required RelayHost Host { get; init; }
    public required MockUpstream Bad { get; init; }
    public required MockUpstream Good { get; init; }
    public required Channel BadChannel { get; init; }
    public required Channel GoodChannel { get; init; }
    public required HttpClient Client { get; init; }
    private readonly List<IDisposable> _extra = [];

    /// <param name="badUrl">Point the bad channel somewhere other than its mock (a refused or silent port).</param>
    public static async Task<FaultRig> StartAsync(ChannelType type = ChannelType.OpenAI, string? badUrl = null, GroupSettings? settings = null,
        Action<Octopus.Configuration.OctopusConfig>? configure = null)
    {
        var host = await RelayHost.StartAsync(configure);
        var bad = await MockUpstream.StartAsync("bad");
        var good = await MockUpstream.StartAsync("good");
        var badChannel = await host.AddChannelAsync("bad", type, [badUrl ?? bad.BaseUrl]);
        var goodChannel = await host.AddChannelAsync("good", type, [good.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(badChannel, priority: 0), Member(goodChannel, priority: 1)], settings ?? Quick);
        await host.AddGroupAsync("solo", GroupMode.Failover, [Member(badChannel)], settings ?? Quick);
        return new FaultRig
        {
            Host = host, Bad = bad, Good = good, BadChannel = badChannel, GoodChannel = goodChannel,
            Client = host.ClientFor(await host.AddApiKeyAsync()),
        };
    }

    public void Own(IDisposable d) => _extra.Add(d);

    /// <summary>Waits until the request log holds <paramref name="n"/> lines; returns them newest first.</summary>
    public async Task<IReadOnlyList<RequestLog>> LogsAsync(int n)
    {
        var store = Host.Get<RequestLogStore>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var items = (await store.QueryAsync(new RequestLogFilter { Limit = 500 }, default)).Items;
            if (items.Count >= n)
            {
                Assert.Equal(n, items.Count);
                return items;
            }
            Assert.True(DateTime.UtcNow < until, $"expected {n} request log lines, have {items.Count}");
            await Task.Delay(50);
        }
    }

    public async Task<RequestLog> LogAsync() => (await LogsAsync(1)).Single();

    /// <summary>The in-memory counts (not yet flushed) for one group and channel.</summary>
    public (long Ok, long Failed, long Input, long Output) Counted(string group, Channel? channel)
    {
        var rows = Host.Get<StatsAggregator>().Pending().Where(d => d.GroupName == group && (channel is null || d.ChannelId == channel.Id)).ToList();
        return (rows.Sum(d => d.RequestsOk), rows.Sum(d => d.RequestsFailed), rows.Sum(d => d.InputTokens), rows.Sum(d => d.OutputTokens));
    }

    public (long Ok, long Failed) CountedAll()
    {
        var rows = Host.Get<StatsAggregator>().Pending();
        return (rows.Sum(d => d.RequestsOk), rows.Sum(d => d.RequestsFailed));
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>
    /// A port that accepts TCP handshakes for nobody: a listener with a backlog of one whose queue is already full, so
    /// the kernel drops further SYNs and a connect hangs until the caller's timeout (works offline, on loopback).
    /// </summary>
    public static (int Port, IDisposable Holder) SilentPort()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        // Fill the accept queue (Linux keeps backlog+1 completed connections); never accept them.
        for (var i = 0; i < 3; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var connect = s.ConnectAsync(IPAddress.Loopback, port);
            if (connect.Wait(300)) fillers.Add(s);
            else { s.Dispose(); break; }
        }
        return (port, new Holder(listener, fillers));
    }

    private sealed class Holder(Socket listener, List<Socket> fillers) : IDisposable
    {
        public void Dispose()
        {
            foreach (var s in fillers) s.Dispose();
            listener.Dispose();
        }
    }

    /// <summary>The data payloads of an SSE body, in order.</summary>
    public static List<string> DataLines(string sse) =>
        sse.Split('\n').Where(l => l.StartsWith("data: ")).Select(l => l[6..]).ToList();

    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        await Bad.DisposeAsync();
        await Good.DisposeAsync();
        foreach (var d in _extra) d.Dispose();
    }
}
