using System.Collections.Concurrent;
using System.Globalization;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Enforces client key budgets from memory. Each budgeted key's spend in its current period is loaded once from the
/// database (plus counts not yet flushed), then kept up to date by <see cref="Record"/>. Requests in flight hold a
/// reservation (an estimate of their cost), so a burst near the budget cannot all slip through before any is priced.
/// </summary>
internal sealed class BudgetTracker(StatsStore store, IUnflushedStats unflushed, TimeProvider clock, ILogger<BudgetTracker> log)
{
    /// <summary>The smallest amount a request in flight reserves, in USD.</summary>
    internal const double MinEstimate = 0.0001;

    /// <summary>After a failed load the key is served unchecked for this long before the database is asked again.</summary>
    private static readonly TimeSpan LoadRetry = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<long, Entry> _keys = new();

    /// <summary>
    /// Admits the request and reserves its estimated cost, or refuses it because the key's budget for the current
    /// period is spent (counting what requests in flight are expected to cost). Keys without a budget pass untouched.
    /// </summary>
    public async ValueTask<BudgetCheck> ReserveAsync(ApiKey key, CancellationToken ct)
    {
        if (key.Budget is not { } budget) return default;
        var now = clock.GetUtcNow();
        var (start, reset) = Bounds(key.BudgetPeriod, now);
        var startMs = start.ToUnixTimeMilliseconds();
        var entry = _keys.GetOrAdd(key.Id, static _ => new Entry());

        Task<(double Spent, long Requests)>? load;
        lock (entry.Gate)
        {
            if (entry.PeriodStartMs != startMs || entry.Load is null && now.ToUnixTimeMilliseconds() >= entry.NextLoadMs)
            {
                // First use, a new period, or a retry after a failed load: start over from the database.
                entry.PeriodStartMs = startMs;
                entry.Loaded = false;
                entry.Spent = 0;
                entry.Requests = 0;
                entry.Reserved = 0;
                entry.Load = LoadAsync(key.Id, startMs);
            }
            load = entry.Load;
        }

        if (load is not null)
        {
            try
            {
                if (!load.IsCompleted) await load.WaitAsync(ct);
                var loaded = await load;
                lock (entry.Gate)
                {
                    if (entry.Load == load && !entry.Loaded)
                    {
                        entry.Spent += loaded.Spent;
                        entry.Requests += loaded.Requests;
                        entry.Loaded = true;
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A database outage must not stop the relay: serve the key unchecked and try again a little later.
                lock (entry.Gate)
                {
                    if (entry.Load == load)
                    {
                        entry.Load = null;
                        entry.NextLoadMs = now.ToUnixTimeMilliseconds() + (long)LoadRetry.TotalMilliseconds;
                    }
                }
                log.LogWarning("Cannot read the spend of API key {KeyId}; its budget is not enforced for now: {Error}", key.Id, e.Message);
                return default;
            }
        }

        lock (entry.Gate)
        {
            if (!entry.Loaded || entry.PeriodStartMs != startMs) return default; // still unknown (load failed or period moved)
            if (entry.Spent + entry.Reserved >= budget)
            {
                return new BudgetCheck(null, RefusalMessage(budget, key.BudgetPeriod, entry.Spent, reset),
                    reset is { } r ? TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((r - now).TotalSeconds))) : null);
            }
            var estimate = Math.Max(MinEstimate, entry.Requests > 0 ? entry.Spent / entry.Requests : 0);
            entry.Reserved += estimate;
            Interlocked.Increment(ref _inFlight);
            return new BudgetCheck(new BudgetReservation(this, entry, startMs, estimate), null, null);
        }
    }

    /// <summary>Adds a recorded request's cost to its key's spend, when that key's spend is being tracked.</summary>
    public void Record(long apiKeyId, long timeMs, bool ok, double cost)
    {
        if (!_keys.TryGetValue(apiKeyId, out var entry)) return;
        lock (entry.Gate)
        {
            // A request that began in the previous period is stored there; the new period does not count it.
            if (!entry.Loaded || timeMs < entry.PeriodStartMs) return;
            entry.Spent += cost;
            if (ok) entry.Requests++;
        }
    }

    /// <summary>Requests holding a reservation right now, over all keys (tests and diagnostics).</summary>
    internal int InFlight => Volatile.Read(ref _inFlight);

    private int _inFlight;

    /// <summary>What the key has spent in its current period as tracked in memory (tests and diagnostics).</summary>
    internal double? SpentOf(long apiKeyId) =>
        _keys.TryGetValue(apiKeyId, out var e) && e.Loaded ? e.Spent : null;

    /// <summary>The key's tracked spend in the period starting at <paramref name="periodStart"/>; null when not tracked for it.</summary>
    internal double? SpentIn(long apiKeyId, DateTimeOffset periodStart)
    {
        if (!_keys.TryGetValue(apiKeyId, out var e)) return null;
        lock (e.Gate) return e.Loaded && e.PeriodStartMs == periodStart.ToUnixTimeMilliseconds() ? e.Spent : null;
    }

    internal void Released() => Interlocked.Decrement(ref _inFlight);

    private async Task<(double Spent, long Requests)> LoadAsync(long apiKeyId, long startMs)
    {
        await Task.Yield(); // never run the query inside the caller's lock
        var filter = new StatsFilter { ApiKeyId = apiKeyId, FromHour = startMs > 0 ? startMs / 1000 : null };
        // Unflushed counts first: a flush landing in between then counts twice (refuses early) rather than never.
        var pending = StatsTotals.Sum(unflushed.Pending(), filter);
        var stored = await store.TotalsAsync(filter, CancellationToken.None);
        var total = stored.Add(pending);
        return (total.Cost, total.RequestsOk);
    }

    /// <summary>Start of the current period and when it resets (UTC); total budgets start at 0 and never reset.</summary>
    internal static (DateTimeOffset Start, DateTimeOffset? Reset) Bounds(string period, DateTimeOffset now)
    {
        now = now.ToUniversalTime();
        var day = new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero);
        switch (period)
        {
            case "daily":
                return (day, day.AddDays(1));
            case "weekly":
                var monday = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
                return (monday, monday.AddDays(7));
            case "monthly":
                var first = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
                return (first, first.AddMonths(1));
            default:
                return (DateTimeOffset.UnixEpoch, null);
        }
    }

    private static string RefusalMessage(double budget, string period, double spent, DateTimeOffset? reset)
    {
        var per = period switch
        {
            "daily" => "per day",
            "weekly" => "per week",
            "monthly" => "per month",
            _ => "in total",
        };
        var text = $"API key budget of {Usd(budget)} {per} is spent ({Usd(spent)} used)";
        return reset is { } r
            ? text + "; it resets " + r.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text + "; raise the key's budget to continue";
    }

    private static string Usd(double v) => "$" + v.ToString("0.00####", CultureInfo.InvariantCulture);

    internal sealed class Entry
    {
        public readonly Lock Gate = new();
        public long PeriodStartMs = long.MinValue;
        public Task<(double Spent, long Requests)>? Load;
        public long NextLoadMs;
        public bool Loaded;
        public double Spent;
        /// <summary>Successful requests in the period: the divisor of the per-request estimate.</summary>
        public long Requests;
        public double Reserved;
    }
}

/// <summary>The answer of <see cref="BudgetTracker.ReserveAsync"/>: a reservation to release, or a refusal.</summary>
internal readonly record struct BudgetCheck(BudgetReservation? Reservation, string? Refusal, TimeSpan? RetryAfter);

/// <summary>An in-flight request's estimated cost held against its key's budget until the request is recorded.</summary>
internal sealed class BudgetReservation
{
    private readonly BudgetTracker _tracker;
    private readonly BudgetTracker.Entry _entry;
    private readonly long _periodStartMs;
    private readonly double _amount;
    private int _released;

    internal BudgetReservation(BudgetTracker tracker, BudgetTracker.Entry entry, long periodStartMs, double amount)
    {
        _tracker = tracker;
        _entry = entry;
        _periodStartMs = periodStartMs;
        _amount = amount;
    }

    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        lock (_entry.Gate)
        {
            // After a period change the reservations were reset with it.
            if (_entry.PeriodStartMs == _periodStartMs) _entry.Reserved = Math.Max(0, _entry.Reserved - _amount);
        }
        _tracker.Released();
    }
}
