namespace Octopus.Stats;

/// <summary>
/// Time-ordered request log ids minted in-process: milliseconds (41 bits) | instance (8 bits) | counter (12 bits).
/// Bodies can reference their log before either is written, and two instances on one database do not collide.
/// </summary>
internal static class LogIds
{
    private static readonly long Instance = Random.Shared.Next(256);
    private static long _last;

    public static long Next(long unixMs)
    {
        var candidate = (unixMs << 20) | (Instance << 12);
        while (true)
        {
            var last = Volatile.Read(ref _last);
            // Same millisecond (or the clock went back): take the next counter value.
            var next = candidate > last ? candidate : last + 1;
            if (Interlocked.CompareExchange(ref _last, next, last) == last) return next;
        }
    }

    public static long TimeOf(long id) => id >> 20;
}
