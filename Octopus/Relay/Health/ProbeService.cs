using System.Collections.Concurrent;
using System.Diagnostics;
using Octopus.Domain;
using Octopus.Relay.Routing;

namespace Octopus.Relay.Health;

/// <summary>
/// Background probes, per channel probe policy (probes cost money on metered plans):
/// `off` and `passive` never probe (passive keys come back when a live request succeeds on them after their rest);
/// `set_aside_only` probes set-aside keys; `active` also probes every key and base URL periodically.
/// A probe is the cheapest authenticated call there is: the model list.
/// </summary>
internal sealed class ProbeService(SnapshotService snapshots, KeyPool keys, BaseUrlSelector urls, UpstreamClients clients,
    TimeProvider clock, ILogger<ProbeService> log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, ProbeResult[]> _results = new();
    private Task? _loop;

    /// <summary>How often the probe loop runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>How long a set-aside key rests before its first probe.</summary>
    public TimeSpan SetAsideDelay { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Active policy: how often each key and URL is probed.</summary>
    public TimeSpan ActiveEvery { get; set; } = TimeSpan.FromMinutes(5);

    public sealed record ProbeResult(long At, long KeyId, string BaseUrl, int Status, long LatencyMs, string? Error);

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>The last results per channel (newest first), for the admin API.</summary>
    public IReadOnlyList<ProbeResult> ResultsFor(long channelId) => _results.TryGetValue(channelId, out var r) ? r : [];

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try { await Task.Delay(Interval, _stop.Token); }
            catch (OperationCanceledException) { return; }
            try
            {
                await ProbeOnceAsync(_stop.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("Probe round failed: {Error}", e.Message);
            }
        }
    }

    public async Task ProbeOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var channel in snapshots.Current.Channels.Values)
        {
            if (!channel.Enabled || channel.ProbePolicy is not ("set_aside_only" or "active")) continue;
            foreach (var key in channel.Keys)
            {
                if (!key.Enabled) continue;
                var state = keys.StateOf(key);
                var due = state.SetAside
                    ? now - state.SetAsideAt >= SetAsideDelay.TotalMilliseconds && now - state.LastUsedAt >= Interval.TotalMilliseconds / 2
                    : channel.ProbePolicy == "active" && now - state.LastUsedAt >= ActiveEvery.TotalMilliseconds;
                if (!due) continue;
                var url = urls.Pick(channel);
                var result = await ProbeAsync(channel, key, url, ct);
                lock (state) state.LastUsedAt = now;
                Remember(channel.Id, result);
                if (result.Status is >= 200 and < 300)
                {
                    urls.ReportLatency(channel, url, result.LatencyMs);
                    if (state.SetAside) keys.ReportSuccess(key, result.LatencyMs);
                }
            }
        }
    }

    private async Task<ProbeResult> ProbeAsync(Channel channel, ChannelKey key, string baseUrl, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var req = new HttpRequestMessage(HttpMethod.Get, baseUrl.TrimEnd('/') + "/models");
        UpstreamRequest.AddAuth(req, channel.Type, key.Secret);
        if (channel.Type == ChannelType.Anthropic) req.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            using var res = await clients.For(channel.Proxy).SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var ms = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return new ProbeResult(clock.GetUtcNow().ToUnixTimeMilliseconds(), key.Id, baseUrl, (int)res.StatusCode, ms,
                res.IsSuccessStatusCode ? null : $"upstream {(int)res.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new ProbeResult(clock.GetUtcNow().ToUnixTimeMilliseconds(), key.Id, baseUrl, 0,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, e is OperationCanceledException ? "timeout" : "connection failed");
        }
    }

    private void Remember(long channelId, ProbeResult result) =>
        _results.AddOrUpdate(channelId, _ => [result], (_, old) => [result, .. old.Take(19)]);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        if (_loop is not null) try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
