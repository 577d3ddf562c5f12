using System.Collections.Concurrent;

namespace Octopus.Relay.Routing;

/// <summary>
/// Conversation → (channel, model, key) that served it last, so a conversation keeps hitting the same upstream key
/// and its prompt cache stays warm. Entries expire after the group's affinity seconds; memory is bounded.
/// </summary>
internal sealed class AffinityTable(TimeProvider clock)
{
    public const int MaxEntries = 100_000;
    /// <summary>A sweep over the cap trims to this, so the next one is 10 000 new conversations away, not one.</summary>
    public const int TrimTo = MaxEntries * 9 / 10;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _lastSweep;
    private int _count;
    private int _sweeping; // 1 while one request sweeps; the others go on

    public readonly record struct Target(long ChannelId, string Model, long KeyId);

    public bool TryGet(string conversation, out Target target)
    {
        if (_entries.TryGetValue(conversation, out var e) && e.ExpiresAt > Now())
        {
            target = e.Target;
            return true;
        }
        target = default;
        return false;
    }

    public void Set(string conversation, Target target, TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero) return;
        var now = Now();
        var entry = new Entry(target, now + (long)lifetime.TotalMilliseconds);
        // ConcurrentDictionary.Count takes every bucket lock, so the size is tracked on the side.
        if (_entries.TryAdd(conversation, entry)) Interlocked.Increment(ref _count);
        else _entries[conversation] = entry;
        if (Volatile.Read(ref _count) > MaxEntries || now - Interlocked.Read(ref _lastSweep) > 60_000) Sweep(now);
    }

    public int Count => Volatile.Read(ref _count);

    private void Sweep(long now)
    {
        // A sweep walks every entry (milliseconds at the cap) on a request's thread: one at a time, and rarely.
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0) return;
        try
        {
            Interlocked.Exchange(ref _lastSweep, now);
            foreach (var (k, e) in _entries)
                if (e.ExpiresAt <= now && _entries.TryRemove(k, out _)) Interlocked.Decrement(ref _count);
            // Still over the cap: drop the entries closest to expiry.
            var count = Volatile.Read(ref _count);
            if (count > MaxEntries)
                foreach (var (k, _) in _entries.OrderBy(kv => kv.Value.ExpiresAt).Take(count - TrimTo).ToArray())
                    if (_entries.TryRemove(k, out _)) Interlocked.Decrement(ref _count);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private readonly record struct Entry(Target Target, long ExpiresAt);
}
