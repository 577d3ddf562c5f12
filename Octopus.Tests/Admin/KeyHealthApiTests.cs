using Octopus.Relay.Health;
using Octopus.Relay.Routing;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

/// <summary>GET /channels/{id}/keys/health: the key pool's states, reasons, failure counts and last validation.</summary>
public sealed class KeyHealthApiTests : AdminTestBase
{
    internal override DbKind Kind => DbKind.Sqlite;

    [Fact]
    public async Task Key_health_shows_active_cooling_and_set_aside_keys_with_failures_and_the_last_validation()
    {
        await using var mock = await MockUpstream.StartAsync("up");
        var created = await CreateChannelAsync("pool", mock.BaseUrl, "openai", "sk-key-one-0000000001", "sk-key-two-0000000002", "sk-key-three-00000003");
        var id = created["id"]!.GetValue<long>();
        var (status, _) = await Admin.SendAsync(HttpMethod.Put, $"/api/v1/channels/{id}", J("""{"probe_policy":"set_aside_only"}"""));
        Assert.Equal(200, status);

        var channel = Server.Get<SnapshotService>().Current.Channels[id];
        var pool = Server.Get<KeyPool>();
        var (one, two, three) = (channel.Keys[0], channel.Keys[1], channel.Keys[2]);
        pool.ReportFailure(one, "upstream 500");
        pool.ReportFailure(one, "upstream 502");
        pool.ReportRateLimited(two, TimeSpan.FromSeconds(60));
        pool.ReportRejected(three, 401, "invalid api key");

        var (s, body) = await Admin.GetJsonAsync($"/api/v1/channels/{id}/keys/health");
        Assert.Equal(200, s);
        Assert.Equal(KeyPool.FailureThreshold, body!["failure_threshold"]!.GetValue<int>());
        Assert.Equal("set_aside_only", body["probe_policy"]!.GetValue<string>());
        var keys = body["keys"]!.AsArray();
        Assert.Equal(3, keys.Count);
        Assert.Equal("active", keys[0]!["state"]!.GetValue<string>());
        Assert.Equal(2, keys[0]!["consecutive_failures"]!.GetValue<int>());
        Assert.Equal("upstream 502", keys[0]!["last_error"]!.GetValue<string>());
        Assert.Equal("cooling", keys[1]!["state"]!.GetValue<string>());
        Assert.NotNull(keys[1]!["cooling_until"]);
        Assert.Equal("set_aside", keys[2]!["state"]!.GetValue<string>());
        Assert.Contains("401", keys[2]!["reason"]!.GetValue<string>());
        Assert.Null(keys[2]!["last_validation"]);
        Assert.DoesNotContain("0000000001", body.ToJsonString());
        Assert.Equal("sk-ke…01", keys[0]!["key"]!.GetValue<string>());

        // A validation probe of the set-aside key succeeds: it is active again and the probe shows.
        var probes = Server.Get<ProbeService>();
        probes.SetAsideDelay = TimeSpan.Zero;
        await probes.ProbeOnceAsync(default);
        (_, body) = await Admin.GetJsonAsync($"/api/v1/channels/{id}/keys/health");
        var recovered = body!["keys"]!.AsArray()[2]!;
        Assert.Equal("active", recovered["state"]!.GetValue<string>());
        Assert.Equal(200, recovered["last_validation"]!["status"]!.GetValue<int>());
        Assert.NotNull(recovered["last_validation"]!["at"]);

        Assert.Equal(404, (await Admin.GetJsonAsync("/api/v1/channels/999/keys/health")).Status);
    }
}
