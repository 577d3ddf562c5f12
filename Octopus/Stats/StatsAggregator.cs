using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Stats;

/// <summary>
/// In-memory counters per (hour, client key, group, channel, upstream model), updated with Interlocked adds on the
/// relay path. A flush takes the counts out (exchange to zero) and gives them back if the write fails, so a count is
/// either in memory or in the database — never both, never neither.
/// </summary>
internal sealed class StatsAggregator(TimeProvider clock) : IUnflushedStats
{
    /// <summary>Cost is counted in nano-dollars so it can be added atomically.</summary>
    private const double NanosPerDollar = 1e9;
    private readonly ConcurrentDictionary<StatsKey, Counters> _counters = new();

    internal readonly record struct StatsKey(long Hour, long ApiKeyId, string Group, long ChannelId, string Model);

    public void Add(StatsKey key, bool ok, in Usage usage, double cost, long latencyMs, long ttftMs)
    {
        var c = _counters.GetOrAdd(key, static _ => new Counters());
        if (ok) Interlocked.Increment(ref c.Ok); else Interlocked.Increment(ref c.Failed);
        if (usage.InputTokens != 0) Interlocked.Add(ref c.Input, usage.InputTokens);
        if (usage.OutputTokens != 0) Interlocked.Add(ref c.Output, usage.OutputTokens);
        if (usage.CacheReadTokens != 0) Interlocked.Add(ref c.CacheRead, usage.CacheReadTokens);
        if (usage.CacheWriteTokens != 0) Interlocked.Add(ref c.CacheWrite, usage.CacheWriteTokens);
        if (usage.ReasoningTokens != 0) Interlocked.Add(ref c.Reasoning, usage.ReasoningTokens);
        if (cost != 0) Interlocked.Add(ref c.CostNanos, (long)Math.Round(cost * NanosPerDollar));
        Interlocked.Add(ref c.LatencyMs, latencyMs);
        Interlocked.Add(ref c.TtftMs, ttftMs);
    }

    public long HourOf(long unixMs) => unixMs / 1000 / 3600 * 3600;

    public long CurrentHour => HourOf(clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>Takes every non-zero count out of memory. Give the result back with <see cref="Restore"/> if it cannot be written.</summary>
    public List<StatsDelta> TakeAll()
    {
        var deltas = new List<StatsDelta>();
        foreach (var (key, c) in _counters)
        {
            var d = new StatsDelta
            {
                Hour = key.Hour,
                ApiKeyId = key.ApiKeyId,
                GroupName = key.Group,
                ChannelId = key.ChannelId,
                Model = key.Model,
                RequestsOk = Interlocked.Exchange(ref c.Ok, 0),
                RequestsFailed = Interlocked.Exchange(ref c.Failed, 0),
                InputTokens = Interlocked.Exchange(ref c.Input, 0),
                OutputTokens = Interlocked.Exchange(ref c.Output, 0),
                CacheReadTokens = Interlocked.Exchange(ref c.CacheRead, 0),
                CacheWriteTokens = Interlocked.Exchange(ref c.CacheWrite, 0),
                ReasoningTokens = Interlocked.Exchange(ref c.Reasoning, 0),
                Cost = Interlocked.Exchange(ref c.CostNanos, 0) / NanosPerDollar,
                LatencyMsTotal = Interlocked.Exchange(ref c.LatencyMs, 0),
                TtftMsTotal = Interlocked.Exchange(ref c.TtftMs, 0),
            };
            if (d.RequestsOk != 0 || d.RequestsFailed != 0 || d.InputTokens != 0 || d.OutputTokens != 0 || d.Cost != 0)
                deltas.Add(d);
        }
        return deltas;
    }

    /// <summary>Puts counts back after a failed write; they go out with the next flush.</summary>
    public void Restore(IEnumerable<StatsDelta> deltas)
    {
        foreach (var d in deltas)
        {
            var c = _counters.GetOrAdd(new StatsKey(d.Hour, d.ApiKeyId, d.GroupName, d.ChannelId, d.Model), static _ => new Counters());
            Interlocked.Add(ref c.Ok, d.RequestsOk);
            Interlocked.Add(ref c.Failed, d.RequestsFailed);
            Interlocked.Add(ref c.Input, d.InputTokens);
            Interlocked.Add(ref c.Output, d.OutputTokens);
            Interlocked.Add(ref c.CacheRead, d.CacheReadTokens);
            Interlocked.Add(ref c.CacheWrite, d.CacheWriteTokens);
            Interlocked.Add(ref c.Reasoning, d.ReasoningTokens);
            Interlocked.Add(ref c.CostNanos, (long)Math.Round(d.Cost * NanosPerDollar));
            Interlocked.Add(ref c.LatencyMs, d.LatencyMsTotal);
            Interlocked.Add(ref c.TtftMs, d.TtftMsTotal);
        }
    }

    /// <summary>Drops empty rows of past hours so memory stays bounded (current and previous hour stay).</summary>
    public void Trim()
    {
        var keepFrom = CurrentHour - 3600;
        foreach (var (key, c) in _counters)
        {
            if (key.Hour < keepFrom && Volatile.Read(ref c.Ok) == 0 && Volatile.Read(ref c.Failed) == 0 && Volatile.Read(ref c.Input) == 0)
                _counters.TryRemove(key, out _);
        }
    }

    public IReadOnlyCollection<StatsDelta> Pending()
    {
        var list = new List<StatsDelta>();
        foreach (var (key, c) in _counters)
        {
            var ok = Volatile.Read(ref c.Ok);
            var failed = Volatile.Read(ref c.Failed);
            if (ok == 0 && failed == 0) continue;
            list.Add(new StatsDelta
            {
                Hour = key.Hour, ApiKeyId = key.ApiKeyId, GroupName = key.Group, ChannelId = key.ChannelId, Model = key.Model,
                RequestsOk = ok, RequestsFailed = failed,
                InputTokens = Volatile.Read(ref c.Input), OutputTokens = Volatile.Read(ref c.Output),
                CacheReadTokens = Volatile.Read(ref c.CacheRead), CacheWriteTokens = Volatile.Read(ref c.CacheWrite),
                ReasoningTokens = Volatile.Read(ref c.Reasoning), Cost = Volatile.Read(ref c.CostNanos) / NanosPerDollar,
                LatencyMsTotal = Volatile.Read(ref c.LatencyMs), TtftMsTotal = Volatile.Read(ref c.TtftMs),
            });
        }
        return list;
    }

    private sealed class Counters
    {
        public long Ok, Failed, Input, Output, CacheRead, CacheWrite, Reasoning, CostNanos, LatencyMs, TtftMs;
    }
}
