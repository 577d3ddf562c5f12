using Octopus.Relay.Routing;

namespace Octopus.Tests.Relay;

public sealed class AffinityTableTests
{
    [Fact]
    public void Over_the_cap_the_table_trims_to_nine_tenths_dropping_the_entries_closest_to_expiry()
    {
        var table = new AffinityTable(new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));
        var target = new AffinityTable.Target(1, "m", 1);
        // Later conversations live longer: the first ones are the closest to expiry.
        for (var i = 0; i < AffinityTable.MaxEntries; i++) table.Set("c" + i, target, TimeSpan.FromSeconds(3600 + i));
        Assert.Equal(AffinityTable.MaxEntries, table.Count);

        table.Set("one-more", target, TimeSpan.FromDays(3));
        Assert.Equal(AffinityTable.TrimTo, table.Count);
        Assert.False(table.TryGet("c0", out _));
        Assert.True(table.TryGet("c" + (AffinityTable.MaxEntries - 1), out _));
        Assert.True(table.TryGet("one-more", out _));

        // The next conversations are added without another sweep until the cap is passed again.
        for (var i = 0; i < 1000; i++) table.Set("next" + i, target, TimeSpan.FromSeconds(1));
        Assert.Equal(AffinityTable.TrimTo + 1000, table.Count);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
