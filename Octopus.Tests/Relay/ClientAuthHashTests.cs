using Octopus.Relay;

namespace Octopus.Tests.Relay;

public sealed class ClientAuthHashTests
{
    [Fact]
    public void Cached_hash_is_the_stored_hash_and_the_cache_stays_bounded()
    {
        Assert.Equal(ClientAuth.Hash("sk-octopus-abc"), ClientAuth.CachedHash("sk-octopus-abc"));
        Assert.Equal(ClientAuth.Hash("sk-octopus-abc"), ClientAuth.CachedHash("sk-octopus-abc"));
        Assert.Equal("8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1", ClientAuth.CachedHash("/"));

        // A scanner's guesses cannot grow it without bound, and long junk is never kept.
        for (var i = 0; i < 5000; i++) ClientAuth.CachedHash("sk-guess-" + i);
        Assert.InRange(ClientAuth.CachedHashCount, 1, 1024);
        var huge = new string('k', 10_000);
        Assert.Equal(ClientAuth.Hash(huge), ClientAuth.CachedHash(huge));
        Assert.InRange(ClientAuth.CachedHashCount, 1, 1024);
    }
}
