using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Relay.Limits;

/// <summary>
/// Per-key (and per key-and-group) RPM, TPM and concurrency limits, kept in this process's memory: no database on
/// the relay path. With several instances behind a balancer each enforces its own share.
/// </summary>
internal sealed class KeyLimiter(TimeProvider clock)
{
    private readonly ConcurrentDictionary<(long KeyId, string Group), LimitCounter> _counters = new();

    /// <summary>
    /// Admits the request under the key-wide limits and the key's limits for <paramref name="group"/>, or refuses it.
    /// An admitted request holds a lease until <see cref="LimitLease.Release"/>; keys without limits get none.
    /// </summary>
    public LimitRefusal? TryAcquire(ApiKey key, string group, out LimitLease? lease)
    {
        lease = null;
        var keyLimited = key.RequestsPerMinute is not null || key.TokensPerMinute is not null || key.MaxConcurrency is not null;
        var groupLimits = key.GroupLimits.Count > 0 && key.GroupLimits.TryGetValue(group, out var g) ? g : null;
        if (!keyLimited && groupLimits is null) return null;

        var nowS = clock.GetUtcNow().ToUnixTimeSeconds();
        LimitCounter? keyCounter = null, groupCounter = null;
        if (keyLimited)
        {
            keyCounter = Counter(key.Id, "");
            if (keyCounter.TryAcquire(key.RequestsPerMinute, key.TokensPerMinute, key.MaxConcurrency, nowS) is { } refused)
                return refused with { Limit = "this API key's limit of " + refused.Limit };
        }
        if (groupLimits is not null)
        {
            groupCounter = Counter(key.Id, group);
            if (groupCounter.TryAcquire(groupLimits.Rpm, groupLimits.Tpm, groupLimits.MaxConcurrency, nowS) is { } refused)
            {
                keyCounter?.Rollback(nowS);
                return refused with { Limit = $"this API key's limit of {refused.Limit} for group '{group}'" };
            }
        }
        lease = new LimitLease(clock, keyCounter, groupCounter);
        return null;
    }

    /// <summary>Current window use of the key (group "" = key-wide), or null when it has no counter yet.</summary>
    public LimitUse? Use(long keyId, string group = "") =>
        _counters.TryGetValue((keyId, group), out var c) ? c.Use(clock.GetUtcNow().ToUnixTimeSeconds()) : null;

    private LimitCounter Counter(long keyId, string group) => _counters.GetOrAdd((keyId, group), static _ => new LimitCounter());
}

/// <summary>An admitted request's hold on its key's counters; released exactly once when the request is recorded.</summary>
internal sealed class LimitLease(TimeProvider clock, LimitCounter? key, LimitCounter? group)
{
    private int _released;

    public void Release(long tokens)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        var nowS = clock.GetUtcNow().ToUnixTimeSeconds();
        key?.Release(tokens, nowS);
        group?.Release(tokens, nowS);
    }
}
