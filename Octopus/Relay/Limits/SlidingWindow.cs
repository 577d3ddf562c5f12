namespace Octopus.Relay.Limits;

/// <summary>
/// A count over the last 60 seconds in one-second buckets: bounded memory whatever the limit, exact to the second.
/// Not thread-safe; <see cref="LimitCounter"/> guards it.
/// </summary>
internal sealed class SlidingWindow
{
    internal const int Seconds = 60;
    private readonly long[] _second = new long[Seconds];
    private readonly long[] _count = new long[Seconds];

    /// <summary>The total of the buckets still inside the window ending at <paramref name="nowS"/> (unix seconds).</summary>
    public long Sum(long nowS)
    {
        long sum = 0;
        for (var i = 0; i < Seconds; i++)
            if (_second[i] > nowS - Seconds && _second[i] <= nowS) sum += _count[i];
        return sum;
    }

    public void Add(long nowS, long n)
    {
        var i = (int)(((nowS % Seconds) + Seconds) % Seconds);
        if (_second[i] != nowS)
        {
            _second[i] = nowS;
            _count[i] = 0;
        }
        _count[i] += n;
    }

    /// <summary>Takes back an <see cref="Add"/> made at <paramref name="atS"/> (when that bucket is still the same second).</summary>
    public void Remove(long atS, long n)
    {
        var i = (int)(((atS % Seconds) + Seconds) % Seconds);
        if (_second[i] == atS) _count[i] = Math.Max(0, _count[i] - n);
    }

    /// <summary>Whole seconds until the window's total falls below <paramref name="limit"/> (at least 1).</summary>
    public long SecondsUntilBelow(long nowS, long limit)
    {
        var excess = Sum(nowS) - limit + 1;
        if (excess <= 0) return 1;
        long dropped = 0;
        // Oldest second first: a bucket for second s leaves the window when now reaches s + 60.
        for (var s = nowS - Seconds + 1; s <= nowS; s++)
        {
            var i = (int)(((s % Seconds) + Seconds) % Seconds);
            if (_second[i] != s) continue;
            dropped += _count[i];
            if (dropped >= excess) return Math.Max(1, s + Seconds - nowS);
        }
        return Seconds;
    }
}
