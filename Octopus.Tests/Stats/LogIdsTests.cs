using Octopus.Stats;

namespace Octopus.Tests.Stats;

public sealed class LogIdsTests
{
    [Fact]
    public void Ids_are_unique_ordered_and_exact_as_JavaScript_numbers()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = Enumerable.Range(0, 10_000).Select(i => LogIds.Next(now + i / 1000)).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(ids.OrderBy(x => x), ids);
        Assert.All(ids, id => Assert.True(id < (1L << 53)));
        // Still below 2^53 in 30 years (the largest id of that millisecond; minting it would move this process's ids there).
        Assert.True(LogIds.WithInstance(LogIds.Floor(now + TimeSpan.FromDays(365 * 30).Ticks / TimeSpan.TicksPerMillisecond) + 255, 31) < (1L << 53));
        Assert.InRange(LogIds.TimeOf(ids[0]), now - 1, now + 1);
    }
}
