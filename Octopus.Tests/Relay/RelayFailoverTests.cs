using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Relay.Health;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

public sealed class RelayFailoverTests
{
    private static readonly GroupSettings Quick = new() { AffinitySeconds = 0, ResponseTimeoutSeconds = 2, FirstEventTimeoutSeconds = 2, CooldownSeconds = 0 };

    internal static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task Failover_moves_to_the_next_member_when_the_first_fails(int status)
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[0].Behave = _ => new MockUpstream.Reply { Status = status, Body = """{"error":{"message":"upstream trouble"}}""", Headers = { ["retry-after"] = "7" } };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        Assert.Equal("Hello from m1", doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("g", host.Get<Octopus.Relay.Routing.SnapshotService>().Current.ResolveGroup("g")!.Name);
        Assert.Equal(1, mocks[0].Count);
        Assert.Equal(1, mocks[1].Count);
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Failover_moves_on_when_the_upstream_refuses_connections()
    {
        await using var host = await StartAsync();
        var good = await MockUpstream.StartAsync("good");
        var dead = await host.AddChannelAsync("dead", ChannelType.OpenAI, [$"http://127.0.0.1:{ClosedPort()}/v1"]);
        var ok = await host.AddChannelAsync("ok", ChannelType.OpenAI, [good.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(dead, priority: 0), Member(ok, priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("Hello from good", await res.Content.ReadAsStringAsync());
        await good.DisposeAsync();
    }

    [Fact]
    public async Task Failover_moves_on_when_the_upstream_does_not_answer_in_time()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[0].Behave = _ => new MockUpstream.Reply { DelayBeforeHeaders = TimeSpan.FromSeconds(30), Body = "{}" };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var started = DateTime.UtcNow;
        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("Hello from m1", await res.Content.ReadAsStringAsync());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Exhausted_attempts_give_an_OpenAI_shaped_error_naming_the_group_and_never_a_key()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        foreach (var m in mocks) m.Behave = _ => new MockUpstream.Reply { Status = 503, Body = """{"error":{"message":"overloaded"}}""" };
        await host.AddGroupAsync("doomed", GroupMode.Failover, channels.Select(c => Member(c)), Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("doomed"));
        Assert.Equal(HttpStatusCode.BadGateway, res.StatusCode);
        var text = await res.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        var message = doc.RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("doomed", message);
        Assert.Contains("503", message);
        Assert.DoesNotContain("sk-upstream", text);
        // The failure is counted against the last channel tried.
        var pending = host.Get<Octopus.Stats.StatsAggregator>().Pending();
        Assert.Equal(1, pending.Where(d => d.GroupName == "doomed" && d.ChannelId == channels[1].Id).Sum(d => d.RequestsFailed));
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task Exhausted_attempts_give_an_Anthropic_shaped_error_to_Anthropic_clients()
    {
        await using var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("a");
        mock.Behave = _ => new MockUpstream.Reply { Status = 500, Body = """{"type":"error","error":{"type":"api_error","message":"kaput"}}""" };
        var ch = await host.AddChannelAsync("a", ChannelType.Anthropic, [mock.BaseUrl]);
        await host.AddGroupAsync("claude", GroupMode.Failover, [Member(ch)], Quick);
        var secret = await host.AddApiKeyAsync();
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        client.DefaultRequestHeaders.Add("x-api-key", secret);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");

        var res = await client.PostAsync("/v1/messages", new StringContent("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadGateway, res.StatusCode);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        Assert.Contains("claude", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        await mock.DisposeAsync();
    }

    [Fact]
    public async Task Upstream_400_is_returned_as_is_without_trying_elsewhere()
    {
        await using var host = await StartAsync();
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[0].Behave = _ => new MockUpstream.Reply { Status = 400, Body = """{"error":{"message":"max_tokens too large","type":"invalid_request_error"}}""" };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[0], priority: 0), Member(channels[1], priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        Assert.Contains("max_tokens too large", await res.Content.ReadAsStringAsync());
        Assert.Equal(0, mocks[1].Count);
        foreach (var m in mocks) await m.DisposeAsync();
    }

    [Fact]
    public async Task A_key_answered_401_is_set_aside_and_the_next_key_serves()
    {
        await using var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("m");
        mock.Behave = r => r.Key == "bad-key" ? new MockUpstream.Reply { Status = 401, Body = """{"error":{"message":"invalid api key"}}""" } : null;
        var ch = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl], ["bad-key", "good-key"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        for (var i = 0; i < 4; i++)
        {
            var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
        // The bad key was tried once, then set aside; every later request went straight to the good key.
        Assert.Equal(1, mock.Requests.Count(r => r.Key == "bad-key"));
        var badKey = ch.Keys.Single(k => k.Secret == "bad-key");
        Assert.True(host.Get<KeyPool>().TryGetState(badKey.Id, out var state) && state.SetAside);
        Assert.Contains("401", state.Reason);
        // The set-aside status is persisted with its reason.
        await WaitUntil(async () => (await host.Get<Octopus.Storage.ChannelStore>().GetAsync(ch.Id, default))!.Keys.Single(k => k.Id == badKey.Id).Status == KeyStatus.SetAside);
        await mock.DisposeAsync();
    }

    [Fact]
    public async Task Lowest_latency_base_url_is_preferred()
    {
        await using var host = await StartAsync();
        var slow = await MockUpstream.StartAsync("slow");
        var fast = await MockUpstream.StartAsync("fast");
        slow.Behave = r => slow.DefaultReply(r) with { DelayBeforeHeaders = TimeSpan.FromMilliseconds(150) };
        var ch = await host.AddChannelAsync("c", ChannelType.OpenAI, [slow.BaseUrl, fast.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        for (var i = 0; i < 20; i++) await client.PostAsync("/v1/chat/completions", Chat("g"));
        // Each URL is measured once; from then on the fast one wins.
        Assert.Equal(1, slow.Count);
        Assert.Equal(19, fast.Count);
        await slow.DisposeAsync();
        await fast.DisposeAsync();
    }

    internal static async Task WaitUntil(Func<Task<bool>> condition, int timeoutMs = 5000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(50);
        }
    }
}
