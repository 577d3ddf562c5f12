namespace Octopus.Stats;

/// <summary>
/// Time-ordered request log ids minted in-process, so bodies can reference their log before either is written:
/// milliseconds since 2024-01-01 (40 bits) | instance (5 bits) | counter (8 bits). They stay below 2^53, so the
/// admin UI (JavaScript numbers) reads them exactly, for about 34 years. Instances sharing a database pick their
/// instance number at random; when two picked the same one, the log writer meets the clash as a duplicate key and
/// calls <see cref="ChangeInstance"/>.
/// A request's id is minted when it arrives, from its arrival time, so an id's time is its log's `started_at`: later
/// only when more than 256 requests arrive in one millisecond or the clock steps back. The log table's time filters
/// and retention therefore run on the primary key (<see cref="Floor"/>) with no index on `started_at` to keep up.
/// </summary>
internal static class LogIds
{
    private const long Epoch = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    private static long _instance = Random.Shared.Next(32);
    private static long _last;

    internal static long Instance => Volatile.Read(ref _instance);

    /// <summary>Moves to another instance number (ids minted from now on no longer clash with the other instance's).</summary>
    public static void ChangeInstance()
    {
        var current = Volatile.Read(ref _instance);
        Interlocked.CompareExchange(ref _instance, (current + 1 + Random.Shared.Next(31)) % 32, current);
    }

    public static long Next(long unixMs)
    {
        var candidate = (Math.Max(0, unixMs - Epoch) << 13) | (Volatile.Read(ref _instance) << 8);
        while (true)
        {
            var last = Volatile.Read(ref _last);
            // Same millisecond (or the clock went back): take the next counter value.
            var next = candidate > last ? candidate : last + 1;
            if (Interlocked.CompareExchange(ref _last, next, last) == last) return next;
        }
    }

    public static long TimeOf(long id) => (id >> 13) + Epoch;

    /// <summary>The smallest id minted at or after <paramref name="unixMs"/>.</summary>
    public static long Floor(long unixMs) => Math.Max(0, unixMs - Epoch) << 13;

    /// <summary>The same time and counter under another instance number.</summary>
    public static long WithInstance(long id, long instance) => (id & ~(InstanceMask << 8)) | ((instance & InstanceMask) << 8);

    private const long InstanceMask = 31;
}
