using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Relay.Health;

/// <summary>
/// Recent attempts per channel and per channel key, in memory: the last <see cref="Window"/> outcomes and
/// latencies, and the last error (scrubbed of secrets). What the admin API shows as a channel's health at a glance.
/// </summary>
internal sealed class ChannelHealth(TimeProvider clock)
{
    /// <summary>Attempts remembered per channel and per key.</summary>
    internal const int Window = 100;

    private readonly ConcurrentDictionary<long, Tracker> _channels = new();
    private readonly ConcurrentDictionary<long, Tracker> _keys = new();

    public void Record(Channel channel, long keyId, bool ok, long latencyMs, int status, string? error)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var message = error is null ? null : SecretScrubber.Scrub(error, channel);
        _channels.GetOrAdd(channel.Id, static _ => new Tracker()).Add(ok, latencyMs, now, status, message);
        _keys.GetOrAdd(keyId, static _ => new Tracker()).Add(ok, latencyMs, now, status, message);
    }

    public HealthSummary? OfChannel(long channelId) => _channels.TryGetValue(channelId, out var t) ? t.Summary() : null;

    public HealthSummary? OfKey(long keyId) => _keys.TryGetValue(keyId, out var t) ? t.Summary() : null;

    private sealed class Tracker
    {
        private readonly Lock _gate = new();
        private readonly bool[] _ok = new bool[Window];
        private readonly long[] _latency = new long[Window];
        private readonly long[] _at = new long[Window];
        private int _count, _next;
        private HealthError? _lastError;

        public void Add(bool ok, long latencyMs, long at, int status, string? error)
        {
            lock (_gate)
            {
                _ok[_next] = ok;
                _latency[_next] = latencyMs;
                _at[_next] = at;
                _next = (_next + 1) % Window;
                if (_count < Window) _count++;
                if (!ok) _lastError = new HealthError(at, status, error ?? $"upstream {status}");
            }
        }

        public HealthSummary Summary()
        {
            lock (_gate)
            {
                int succeeded = 0;
                long latencySum = 0, since = long.MaxValue, last = 0;
                for (var i = 0; i < _count; i++)
                {
                    since = Math.Min(since, _at[i]);
                    last = Math.Max(last, _at[i]);
                    if (!_ok[i]) continue;
                    succeeded++;
                    latencySum += _latency[i];
                }
                return new HealthSummary(_count, succeeded, _count == 0 ? 0 : (double)succeeded / _count,
                    succeeded == 0 ? null : latencySum / succeeded, since == long.MaxValue ? 0 : since, last, _lastError);
            }
        }
    }
}

/// <summary>Over the last attempts (at most <see cref="ChannelHealth.Window"/>): how many, how many worked, mean
/// latency of those that worked, the time span, and the last failure.</summary>
internal sealed record HealthSummary(int Attempts, int Succeeded, double SuccessRate, long? AvgLatencyMs, long Since, long LastAt, HealthError? LastError);

internal sealed record HealthError(long At, int Status, string Message);
