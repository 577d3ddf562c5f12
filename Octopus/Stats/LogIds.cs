namespace Octopus.Stats;

/// <summary>
/// Time-ordered request log ids minted in-process, so bodies can reference their log before either is written:
/// milliseconds since 2024-01-01 (40 bits) | instance (5 bits) | counter (8 bits). They stay below 2^53, so the
/// admin UI (JavaScript numbers) reads them exactly, for about 34 years; two instances rarely collide.
/// </summary>
internal static class LogIds
{
    private const long Epoch = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    private static readonly long Instance = Random.Shared.Next(32);
    private static long _last;

    public static long Next(long unixMs)
    {
        var candidate = (Math.Max(0, unixMs - Epoch) << 13) | (Instance << 8);
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
