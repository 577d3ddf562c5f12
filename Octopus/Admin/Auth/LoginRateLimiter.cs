using System.Collections.Concurrent;

namespace Octopus.Admin.Auth;

/// <summary>
/// Counts failed logins per client IP in a sliding window; at the limit further attempts get 429 until the oldest
/// failure leaves the window. A successful login clears the IP. Memory is bounded by pruning idle entries.
/// </summary>
internal sealed class LoginRateLimiter(TimeProvider? time = null)
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private const int PruneAbove = 10_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new();

    /// <summary>How long this IP must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(string ip)
    {
        if (!_failures.TryGetValue(ip, out var q)) return null;
        lock (q)
        {
            Trim(q);
            if (q.Count < MaxFailures) return null;
            var wait = q.Peek() + Window - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : null;
        }
    }

    public void Failed(string ip)
    {
        if (_failures.Count > PruneAbove) Prune();
        var q = _failures.GetOrAdd(ip, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            Trim(q);
            q.Enqueue(_time.GetUtcNow());
            while (q.Count > MaxFailures) q.Dequeue();
        }
    }

    public void Succeeded(string ip) => _failures.TryRemove(ip, out _);

    private void Trim(Queue<DateTimeOffset> q)
    {
        var cutoff = _time.GetUtcNow() - Window;
        while (q.Count > 0 && q.Peek() <= cutoff) q.Dequeue();
    }

    private void Prune()
    {
        foreach (var (ip, q) in _failures)
        {
            lock (q)
            {
                Trim(q);
                if (q.Count == 0) _failures.TryRemove(ip, out _);
            }
        }
    }
}
