using System.Collections.Concurrent;
using Octopus.Domain;

namespace Octopus.Relay.Health;

/// <summary>
/// Runtime state of every upstream key: rotation, 429 cool-down, consecutive failures, set-aside.
/// Set-aside is also persisted (through <see cref="KeyStatusChanged"/>) so a restart does not forget it.
/// </summary>
internal sealed class KeyPool(TimeProvider clock)
{
    /// <summary>Consecutive failures (5xx, timeouts) before a key is set aside.</summary>
    public const int FailureThreshold = 3;
    /// <summary>How long a set-aside key waits before a live request may try it again (passive recovery).</summary>
    public TimeSpan SetAsideRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<long, KeyState> _states = new();
    private readonly ConcurrentDictionary<long, int> _rotation = new();

    /// <summary>Raised when a key is set aside or recovers: (key id, status, reason).</summary>
    public event Action<long, string, string?>? KeyStatusChanged;

    public KeyState StateOf(ChannelKey key)
    {
        var state = _states.GetOrAdd(key.Id, _ => new KeyState());
        // Adopt the persisted status the first time we see the key (e.g. after a restart).
        if (!state.Initialized)
        {
            lock (state)
            {
                if (!state.Initialized)
                {
                    state.Initialized = true;
                    state.ChangedAt = key.StatusAt ?? 0;
                    if (key.Status == KeyStatus.SetAside)
                    {
                        state.SetAside = true;
                        state.Reason = key.StatusReason;
                        state.SetAsideAt = key.StatusAt ?? 0;
                    }
                }
            }
        }
        return state;
    }

    /// <summary>
    /// The next usable key of the channel, rotating. The preferred key (conversation affinity) wins while usable.
    /// Set-aside keys are offered only after their retry delay and only when <paramref name="allowSetAside"/>.
    /// </summary>
    public ChannelKey? Pick(Channel channel, long preferredKeyId, bool allowSetAside, ISet<long>? exclude = null)
    {
        var keys = channel.Keys;
        if (keys.Count == 0) return null;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();

        if (preferredKeyId != 0)
        {
            foreach (var k in keys)
                if (k.Id == preferredKeyId && (exclude is null || !exclude.Contains(k.Id)) && Usable(k, now, allowSetAside: false))
                    return k;
        }

        var start = _rotation.AddOrUpdate(channel.Id, 0, (_, v) => unchecked(v + 1));
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < keys.Count; i++)
            {
                var k = keys[(int)((uint)(start + i) % (uint)keys.Count)];
                if (exclude is not null && exclude.Contains(k.Id)) continue;
                if (pass == 0 ? Usable(k, now, allowSetAside: false) : allowSetAside && Usable(k, now, allowSetAside: true))
                    return k;
            }
        }
        return null;
    }

    private bool Usable(ChannelKey key, long now, bool allowSetAside)
    {
        if (!key.Enabled) return false;
        var s = StateOf(key);
        if (s.CoolingUntil > now) return false;
        if (!s.SetAside) return true;
        return allowSetAside && now - s.SetAsideAt >= SetAsideRetryAfter.TotalMilliseconds;
    }

    public void ReportSuccess(ChannelKey key, long latencyMs)
    {
        var s = StateOf(key);
        bool recovered;
        lock (s)
        {
            s.ConsecutiveFailures = 0;
            s.Successes++;
            s.LastLatencyMs = latencyMs;
            s.LastUsedAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
            recovered = s.SetAside;
            s.SetAside = false;
            s.Reason = null;
            if (recovered) s.ChangedAt = s.LastUsedAt;
        }
        if (recovered) KeyStatusChanged?.Invoke(key.Id, KeyStatus.Active, null);
    }

    /// <summary>401/403: the key is refused by the upstream; set it aside at once.</summary>
    public void ReportRejected(ChannelKey key, int status, string reason) => SetAside(key, $"upstream answered {status}: {reason}");

    /// <summary>429: cool down for retry-after (default 30 s), no penalty otherwise. Returns how long the key cools.</summary>
    public TimeSpan ReportRateLimited(ChannelKey key, TimeSpan? retryAfter)
    {
        var s = StateOf(key);
        var wait = retryAfter is { } r && r > TimeSpan.Zero ? r : TimeSpan.FromSeconds(30);
        if (wait > TimeSpan.FromHours(1)) wait = TimeSpan.FromHours(1);
        lock (s)
        {
            s.CoolingUntil = clock.GetUtcNow().Add(wait).ToUnixTimeMilliseconds();
            s.Failures++;
            s.LastError = "rate limited (429)";
            s.LastErrorAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        }
        return wait;
    }

    /// <summary>
    /// When the channel has no usable key only because its keys are cooling down after 429s: how long until the
    /// first of them is usable again. Null when a key is usable or the others are disabled or set aside.
    /// </summary>
    public TimeSpan? CoolingLeft(Channel channel)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        long? soonest = null;
        foreach (var k in channel.Keys)
        {
            if (!k.Enabled) continue;
            var s = StateOf(k);
            if (s.SetAside) continue;
            if (s.CoolingUntil <= now) return null;
            soonest = soonest is { } v ? Math.Min(v, s.CoolingUntil) : s.CoolingUntil;
        }
        return soonest is { } until ? TimeSpan.FromMilliseconds(until - now) : null;
    }

    /// <summary>5xx or timeout on this key: counts toward the consecutive-failure threshold.</summary>
    public void ReportFailure(ChannelKey key, string error)
    {
        var s = StateOf(key);
        bool setAside;
        lock (s)
        {
            s.ConsecutiveFailures++;
            s.Failures++;
            s.LastError = error;
            s.LastErrorAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
            setAside = s.ConsecutiveFailures >= FailureThreshold && !s.SetAside;
        }
        if (setAside) SetAside(key, $"{FailureThreshold} failures in a row, last: {error}");
    }

    public void SetAside(ChannelKey key, string reason)
    {
        var s = StateOf(key);
        lock (s)
        {
            s.SetAside = true;
            s.Reason = reason;
            s.SetAsideAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
            s.ChangedAt = s.SetAsideAt;
            s.LastError = reason;
            s.LastErrorAt = s.SetAsideAt;
            s.Failures++;
        }
        KeyStatusChanged?.Invoke(key.Id, KeyStatus.SetAside, reason);
    }

    public bool TryGetState(long keyId, out KeyState state) => _states.TryGetValue(keyId, out state!);

    /// <summary>
    /// Adopts statuses written elsewhere (an admin reset or set-aside, another instance) when they are newer than what
    /// this process last decided itself. Called on every snapshot swap.
    /// </summary>
    public void Sync(IEnumerable<Channel> channels)
    {
        foreach (var channel in channels)
        {
            foreach (var key in channel.Keys)
            {
                if (key.StatusAt is not { } at) continue;
                var s = StateOf(key);
                lock (s)
                {
                    if (at <= s.ChangedAt) continue;
                    s.ChangedAt = at;
                    var setAside = key.Status == KeyStatus.SetAside;
                    s.SetAside = setAside;
                    s.Reason = setAside ? key.StatusReason : null;
                    s.SetAsideAt = setAside ? at : 0;
                    if (!setAside)
                    {
                        s.ConsecutiveFailures = 0;
                        s.CoolingUntil = 0;
                    }
                }
            }
        }
    }
}

internal sealed class KeyState
{
    public bool Initialized;
    /// <summary>Unix ms of the last status decision this process knows of (its own or adopted).</summary>
    public long ChangedAt;
    public bool SetAside;
    public string? Reason;
    public long SetAsideAt;
    public long CoolingUntil;
    public int ConsecutiveFailures;
    public long Successes;
    public long Failures;
    public long LastLatencyMs;
    public long LastUsedAt;
    public string? LastError;
    public long LastErrorAt;
}
