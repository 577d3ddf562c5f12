using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Relay.Health;

/// <summary>
/// Picks the channel base URL with the lowest measured latency (exponential moving average of time to response
/// headers). A URL that failed to connect is skipped until its back-off passes; unmeasured URLs are tried first.
/// </summary>
internal sealed class BaseUrlSelector(TimeProvider clock)
{
    private const double Alpha = 0.3;
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, UrlState> _states = new(StringComparer.Ordinal);

    public string Pick(Channel channel, ISet<string>? exclude = null)
    {
        var urls = channel.BaseUrls;
        if (urls.Count == 1) return urls[0].Url;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        string? best = null, fallback = null;
        var bestLatency = double.MaxValue;
        var fallbackUntil = long.MaxValue;
        foreach (var u in urls)
        {
            if (exclude is not null && exclude.Contains(u.Url)) continue;
            var s = _states.GetOrAdd(Key(channel, u.Url), _ => new UrlState());
            if (s.FailingUntil > now)
            {
                // Every URL failing: take the one that recovers soonest.
                if (s.FailingUntil < fallbackUntil) (fallback, fallbackUntil) = (u.Url, s.FailingUntil);
                continue;
            }
            var latency = s.Samples == 0 ? -1 : s.Ema;
            if (latency < bestLatency) (best, bestLatency) = (u.Url, latency);
        }
        return best ?? fallback ?? urls[0].Url;
    }

    public void ReportLatency(Channel channel, string url, double ms)
    {
        var s = _states.GetOrAdd(Key(channel, url), _ => new UrlState());
        lock (s)
        {
            s.Ema = s.Samples == 0 ? ms : Alpha * ms + (1 - Alpha) * s.Ema;
            s.Samples++;
            s.FailingUntil = 0;
            s.LastUsedAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        }
    }

    /// <summary>Connection-level failure (refused, DNS, TLS, connect timeout).</summary>
    public void ReportFailure(Channel channel, string url)
    {
        var s = _states.GetOrAdd(Key(channel, url), _ => new UrlState());
        lock (s) s.FailingUntil = clock.GetUtcNow().Add(FailureBackoff).ToUnixTimeMilliseconds();
    }

    public (double LatencyMs, long Samples, bool Failing, long LastUsedAt)? StateOf(Channel channel, string url)
    {
        if (!_states.TryGetValue(Key(channel, url), out var s)) return null;
        return (s.Ema, s.Samples, s.FailingUntil > clock.GetUtcNow().ToUnixTimeMilliseconds(), s.LastUsedAt);
    }

    private static string Key(Channel channel, string url) => channel.Id + "|" + url;

    private sealed class UrlState
    {
        public double Ema;
        public long Samples;
        public long FailingUntil;
        public long LastUsedAt;
    }
}
