using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

public sealed class RelayBalancingTests
{
    internal static readonly GroupSettings NoAffinity = new() { AffinitySeconds = 0 };

    internal static StringContent Chat(string model, string text = "hi", bool stream = false) =>
        new(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model,
            ["stream"] = stream,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = text } },
        }, RelayTestJson.Default.DictionaryStringObject), Encoding.UTF8, "application/json");

    internal static async Task<(MockUpstream[] Mocks, Channel[] Channels)> MocksAsync(RelayHost host, int n)
    {
        var mocks = new MockUpstream[n];
        var channels = new Channel[n];
        for (var i = 0; i < n; i++)
        {
            mocks[i] = await MockUpstream.StartAsync($"m{i}");
            channels[i] = await host.AddChannelAsync($"c{i}", ChannelType.OpenAI, [mocks[i].BaseUrl]);
        }
        return (mocks, channels);
    }

    [Fact]
    public async Task Round_robin_spreads_requests_exactly_evenly()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 3);
        await host.AddGroupAsync("rr", GroupMode.RoundRobin, channels.Select(c => Member(c)), NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        for (var i = 0; i < 30; i++)
        {
            var res = await client.PostAsync("/v1/chat/completions", Chat("rr", "same question"));
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
        Assert.All(mocks, m => Assert.Equal(10, m.Count));
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Weighted_follows_weights_within_tolerance_over_1000_requests()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        await host.AddGroupAsync("w", GroupMode.Weighted, [Member(channels[0], weight: 3), Member(channels[1], weight: 1)], NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var tasks = Enumerable.Range(0, 1000).Select(async i =>
        {
            var res = await client.PostAsync("/v1/chat/completions", Chat("w"));
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        });
        await Task.WhenAll(tasks);
        // Expected 750 / 250; binomial sd ≈ 13.7, so ±60 is > 4 sd.
        Assert.InRange(mocks[0].Count, 690, 810);
        Assert.Equal(1000, mocks[0].Count + mocks[1].Count);
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Failover_uses_lowest_priority_first_and_the_next_on_failure()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 3);
        await host.AddGroupAsync("fo", GroupMode.Failover,
            [Member(channels[0], priority: 2), Member(channels[1], priority: 0), Member(channels[2], priority: 1)], NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        for (var i = 0; i < 5; i++) await client.PostAsync("/v1/chat/completions", Chat("fo"));
        Assert.Equal((0, 5, 0), (mocks[0].Count, mocks[1].Count, mocks[2].Count));

        mocks[1].Behave = _ => new MockUpstream.Reply { Status = 500, Body = """{"error":{"message":"boom"}}""" };
        var res = await client.PostAsync("/v1/chat/completions", Chat("fo"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("Hello from m2", await res.Content.ReadAsStringAsync());
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Manual_mode_serves_only_the_pinned_member()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 3);
        await host.AddGroupAsync("man", GroupMode.Manual,
            [Member(channels[0]), Member(channels[1], pinned: true), Member(channels[2])], NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        for (var i = 0; i < 6; i++) await client.PostAsync("/v1/chat/completions", Chat("man", $"q{i}"));
        Assert.Equal((0, 6, 0), (mocks[0].Count, mocks[1].Count, mocks[2].Count));
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Random_mode_reaches_every_member()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 3);
        await host.AddGroupAsync("rnd", GroupMode.Random, channels.Select(c => Member(c)), NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        for (var i = 0; i < 60; i++) await client.PostAsync("/v1/chat/completions", Chat("rnd"));
        Assert.All(mocks, m => Assert.InRange(m.Count, 5, 40));
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Affinity_keeps_a_conversation_on_the_member_and_key_that_served_it()
    {
        await using var host = await StartAsync();
        var mocks = new[] { await MockUpstream.StartAsync("a"), await MockUpstream.StartAsync("b") };
        var c0 = await host.AddChannelAsync("a", ChannelType.OpenAI, [mocks[0].BaseUrl], ["k1", "k2", "k3"]);
        var c1 = await host.AddChannelAsync("b", ChannelType.OpenAI, [mocks[1].BaseUrl], ["k4", "k5", "k6"]);
        await host.AddGroupAsync("aff", GroupMode.RoundRobin, [Member(c0), Member(c1)], new GroupSettings { AffinitySeconds = 600 });
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        // One conversation (same first message) over five turns: one member, one key.
        for (var i = 0; i < 5; i++) await client.PostAsync("/v1/chat/completions", Chat("aff", "conversation one"));
        var served = mocks.Single(m => m.Count > 0);
        Assert.Equal(5, served.Count);
        Assert.Single(served.Requests.Select(r => r.Key).Distinct());

        // Other conversations still spread.
        for (var i = 0; i < 10; i++) await client.PostAsync("/v1/chat/completions", Chat("aff", $"conversation {i + 2}"));
        Assert.All(mocks, m => Assert.True(m.Count > 0));
        foreach (var m in mocks) await m.DisposeAsync();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(bool))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class RelayTestJson : System.Text.Json.Serialization.JsonSerializerContext;
