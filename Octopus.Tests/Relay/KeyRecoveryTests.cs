using System.Net;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Relay.Health;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

public sealed class KeyRecoveryTests
{
    private static async Task<(RelayHost Host, MockUpstream Mock, Channel Channel, HttpClient Client)> SetupAsync(string probePolicy, Func<bool> keyWorks)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("m");
        mock.Behave = r => r.Key == "flaky" && !keyWorks() ? new MockUpstream.Reply { Status = 401, Body = """{"error":{"message":"bad key"}}""" } : null;
        var ch = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl], ["flaky", "spare"], c => c with { ProbePolicy = probePolicy });
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)], NoAffinity);
        return (host, mock, ch, host.ClientFor(await host.AddApiKeyAsync()));
    }

    private static int ModelListCalls(MockUpstream mock) => mock.Requests.Count(r => r.Path.EndsWith("/models"));

    [Fact]
    public async Task A_key_set_aside_after_401_is_brought_back_by_the_recovery_probe()
    {
        var works = false;
        var (host, mock, ch, client) = await SetupAsync("set_aside_only", () => works);
        await using var _ = host;
        await using var __ = mock;
        var flaky = ch.Keys.Single(k => k.Secret == "flaky");
        var pool = host.Get<KeyPool>();
        var probes = host.Get<ProbeService>();
        probes.SetAsideDelay = TimeSpan.Zero;

        // Rotation reaches the flaky key; its 401 sets it aside and the spare key answers.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        Assert.True(pool.TryGetState(flaky.Id, out var state) && state.SetAside);

        // While the upstream still refuses it, the probe keeps it aside.
        await probes.ProbeOnceAsync(default);
        Assert.True(state.SetAside);
        Assert.Contains(probes.ResultsFor(ch.Id), r => r.KeyId == flaky.Id && r.Status == 401);

        // The upstream accepts the key again: the next probe brings it back, persisted.
        works = true;
        state.LastUsedAt = 0;
        await probes.ProbeOnceAsync(default);
        Assert.False(state.SetAside);
        await RelayFailoverTests.WaitUntil(async () =>
            (await host.Get<ChannelStore>().GetAsync(ch.Id, default))!.Keys.Single(k => k.Id == flaky.Id).Status == KeyStatus.Active);
        mock.Requests.Clear();
        for (var i = 0; i < 4; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Contains(mock.Requests, r => r.Key == "flaky" && r.Path.EndsWith("/chat/completions"));
    }

    [Theory]
    [InlineData("off")]
    [InlineData("passive")]
    public async Task Off_and_passive_policies_make_no_probe_calls(string policy)
    {
        var (host, mock, ch, client) = await SetupAsync(policy, () => false);
        await using var _ = host;
        await using var __ = mock;
        var probes = host.Get<ProbeService>();
        probes.SetAsideDelay = TimeSpan.Zero;
        probes.ActiveEvery = TimeSpan.Zero;
        for (var i = 0; i < 3; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        await probes.ProbeOnceAsync(default);
        await probes.ProbeOnceAsync(default);
        Assert.Equal(0, ModelListCalls(mock));
        Assert.Empty(probes.ResultsFor(ch.Id));
    }

    [Fact]
    public async Task Set_aside_only_policy_probes_the_set_aside_key_and_nothing_else()
    {
        var (host, mock, ch, client) = await SetupAsync("set_aside_only", () => false);
        await using var _ = host;
        await using var __ = mock;
        var probes = host.Get<ProbeService>();
        probes.SetAsideDelay = TimeSpan.Zero;
        probes.ActiveEvery = TimeSpan.Zero;

        // No key set aside: nothing to probe.
        await probes.ProbeOnceAsync(default);
        Assert.Equal(0, ModelListCalls(mock));

        for (var i = 0; i < 3; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        var flaky = ch.Keys.Single(k => k.Secret == "flaky");
        Assert.True(host.Get<KeyPool>().TryGetState(flaky.Id, out var state) && state.SetAside);
        state.LastUsedAt = 0;
        await probes.ProbeOnceAsync(default);
        var probe = Assert.Single(mock.Requests, r => r.Path.EndsWith("/models"));
        Assert.Equal("flaky", probe.Key);
        Assert.Equal(flaky.Id, Assert.Single(probes.ResultsFor(ch.Id)).KeyId);
    }

    [Fact]
    public async Task Off_policy_never_offers_a_set_aside_key_to_live_traffic()
    {
        var works = false;
        var (host, mock, ch, client) = await SetupAsync("off", () => works);
        await using var _ = host;
        await using var __ = mock;
        var pool = host.Get<KeyPool>();
        for (var i = 0; i < 3; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        var flaky = ch.Keys.Single(k => k.Secret == "flaky");
        Assert.True(pool.TryGetState(flaky.Id, out var state) && state.SetAside);

        // Unlike passive, the rested key is not tried even when it is the only one left: only an admin brings it back.
        works = true;
        pool.SetAsideRetryAfter = TimeSpan.Zero;
        await host.Get<ChannelStore>().UpdateKeyStatusAsync(ch.Keys.Single(k => k.Secret == "spare").Id, KeyStatus.SetAside, "test", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
        mock.Requests.Clear();
        Assert.NotEqual(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        Assert.Empty(mock.Requests);
        Assert.True(state.SetAside);
    }

    [Fact]
    public async Task Active_policy_probes_every_key_and_records_the_results()
    {
        var (host, mock, ch, _) = await SetupAsync("active", () => true);
        await using var __ = host;
        await using var ___ = mock;
        var probes = host.Get<ProbeService>();
        probes.ActiveEvery = TimeSpan.Zero;
        await probes.ProbeOnceAsync(default);
        Assert.Equal(2, ModelListCalls(mock));
        Assert.Equal(2, probes.ResultsFor(ch.Id).Count(r => r.Status == 200));
    }

    [Fact]
    public async Task Passive_policy_brings_a_set_aside_key_back_when_a_live_request_succeeds_on_it_after_its_rest()
    {
        var works = false;
        var (host, mock, ch, client) = await SetupAsync("passive", () => works);
        await using var _ = host;
        await using var __ = mock;
        var pool = host.Get<KeyPool>();
        var flaky = ch.Keys.Single(k => k.Secret == "flaky");
        for (var i = 0; i < 3; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.True(pool.TryGetState(flaky.Id, out var state) && state.SetAside);

        // After its rest the key is offered again when no healthy key is left; success brings it back.
        works = true;
        pool.SetAsideRetryAfter = TimeSpan.Zero;
        await host.Get<ChannelStore>().UpdateKeyStatusAsync(ch.Keys.Single(k => k.Secret == "spare").Id, KeyStatus.SetAside, "test", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
        // Both keys are now set aside and past their rest, so rotation may offer either first: the spare one is
        // refused, so the answer can only come from the flaky key.
        mock.Behave = r => r.Key == "spare" ? new MockUpstream.Reply { Status = 401, Body = """{"error":{"message":"bad key"}}""" } : null;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        Assert.Equal("flaky", mock.Requests.Last().Key);
        Assert.False(state.SetAside);
        Assert.Equal(0, ModelListCalls(mock));
    }

    [Fact]
    public async Task An_admin_reset_of_a_set_aside_key_is_live_on_the_next_request()
    {
        var works = false;
        var (host, mock, ch, client) = await SetupAsync("off", () => works);
        await using var _ = host;
        await using var __ = mock;
        var flaky = ch.Keys.Single(k => k.Secret == "flaky");
        for (var i = 0; i < 3; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.True(host.Get<KeyPool>().TryGetState(flaky.Id, out var state) && state.SetAside);

        works = true;
        await Task.Delay(5); // the reset must be later than the set-aside
        await host.Get<ChannelStore>().UpdateKeyStatusAsync(flaky.Id, KeyStatus.Active, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
        Assert.False(state.SetAside);
    }
}
