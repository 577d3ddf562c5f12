namespace Octopus.Stats;

/// <summary>
/// Time-ordered request log ids minted in-process, so bodies can reference their log before either is written:
/// milliseconds since 2024-01-01 (40 bits) | instance (5 bits) | counter (8 bits). They stay below 2^53, so the
/// admin UI (JavaScript numbers) reads them exactly, for about 34 years. Instances sharing a database pick their
/// instance number at random; when two picked the same one, the log writer meets the clash as a duplicate key and
/// calls <see cref="ChangeInstance"/>.
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
}
