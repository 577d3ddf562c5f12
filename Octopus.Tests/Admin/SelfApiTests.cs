using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Admin;

/// <summary>GET /api/v1/self: a client key's own usage, budget and limits, with the key as its only credential.</summary>
public sealed class SelfApiTests
{
    private const string AdminPassword = "self-test-admin-password";
    /// <summary>One default mock OpenAI reply (12 input tokens, 4 of them cache reads, 5 output) at the test prices.</summary>
    private const double CostPerRequest = (8 * 2.0 + 4 * 0.5 + 5 * 10.0) / 1_000_000;

    private static async Task<(RelayHost Host, MockUpstream Mock)> StartAsync()
    {
        var host = await RelayHost.StartAsync(c => c.AdminPassword = AdminPassword);
        var mock = await MockUpstream.StartAsync("up");
        var channel = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel, model: "priced-model")], NoAffinity);
        await host.AddGroupAsync("other", GroupMode.Failover, [Member(channel, model: "priced-model")], NoAffinity);
        await host.Get<PriceStore>().SetUserAsync(new Price { Model = "priced-model", Input = 2.0, Output = 10.0, CacheRead = 0.5, CacheWrite = 2.5 }, default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
        return (host, mock);
    }

    private static async Task<(int Status, JsonNode? Body, HttpResponseMessage Raw)> SelfAsync(RelayHost host, Action<HttpRequestHeaders> auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/self");
        auth(request.Headers);
        var res = await host.Http.SendAsync(request);
        var text = await res.Content.ReadAsStringAsync();
        return ((int)res.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, res);
    }

    private static Action<HttpRequestHeaders> Bearer(string secret) => h => h.Authorization = new AuthenticationHeaderValue("Bearer", secret);

    /// <summary>Polls (bounded) until the key's recorded request count reaches <paramref name="requests"/>.</summary>
    private static async Task<JsonNode> SelfAfterAsync(RelayHost host, string secret, long requests)
    {
        JsonNode? body = null;
        for (var i = 0; i < 200; i++)
        {
            (_, body, _) = await SelfAsync(host, Bearer(secret));
            if (body!["usage"]!["total"]!["requests"]!.GetValue<long>() >= requests) break;
            await Task.Delay(10);
        }
        return body!;
    }

    [Fact]
    public async Task A_key_sees_its_own_usage_budget_and_limits_and_nothing_of_another_key()
    {
        var (host, mock) = await StartAsync();
        await using var _h = host;
        await using var _m = mock;
        var alice = await host.AddApiKeyAsync("alice", k => k with
        {
            Budget = 1.0,
            BudgetPeriod = "monthly",
            AllowedGroups = ["g"],
            RequestsPerMinute = 100,
            MaxConcurrency = 3,
            GroupLimits = new Dictionary<string, RateLimits> { ["g"] = new() { Tpm = 5000 } },
        });
        var bob = await host.AddApiKeyAsync("bob-the-other-key", k => k with { Budget = 7.5 });
        using (var a = host.ClientFor(alice))
            for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.OK, (await a.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        using (var b = host.ClientFor(bob))
            for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await b.PostAsync("/v1/chat/completions", Chat("other"))).StatusCode);

        // Counted from memory: nothing has been flushed to the database yet.
        var me = await SelfAfterAsync(host, alice, 2);
        Assert.Equal("alice", me["name"]!.GetValue<string>());
        Assert.Equal(["g"], me["allowed_groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Null(me["expires_at"]);
        foreach (var span in new[] { "today", "period", "total" })
        {
            var u = me["usage"]![span]!;
            Assert.Equal(2, u["requests"]!.GetValue<long>());
            Assert.Equal(2, u["succeeded"]!.GetValue<long>());
            Assert.Equal(24, u["input_tokens"]!.GetValue<long>());
            Assert.Equal(10, u["output_tokens"]!.GetValue<long>());
            Assert.Equal(2 * CostPerRequest, u["cost"]!.GetValue<double>(), 12);
        }
        Assert.Equal(1.0, me["budget"]!.GetValue<double>());
        Assert.Equal("monthly", me["budget_period"]!.GetValue<string>());
        Assert.Equal(2 * CostPerRequest, me["budget_used"]!.GetValue<double>(), 12);
        Assert.Equal(1.0 - 2 * CostPerRequest, me["budget_left"]!.GetValue<double>(), 12);
        Assert.NotNull(me["budget_resets_at"]);
        var limits = me["limits"]!;
        Assert.Equal(100, limits["rpm"]!.GetValue<int>());
        Assert.Null(limits["tpm"]);
        Assert.Equal(3, limits["max_concurrency"]!.GetValue<int>());
        Assert.Equal(2, limits["window"]!["requests"]!.GetValue<long>());
        Assert.Equal(0, limits["window"]!["in_flight"]!.GetValue<int>());
        Assert.Equal(5000, limits["groups"]!["g"]!["tpm"]!.GetValue<int>());
        Assert.Equal(34, limits["groups"]!["g"]!["window"]!["tokens"]!.GetValue<long>());

        var text = me.ToJsonString();
        Assert.DoesNotContain("bob", text);
        Assert.DoesNotContain("7.5", text);
        Assert.DoesNotContain(alice, text); // the secret itself is never echoed

        // Bob, through x-api-key, sees exactly his own.
        var (status, bobView, _) = await SelfAsync(host, h => h.Add("x-api-key", bob));
        Assert.Equal(200, status);
        Assert.Equal("bob-the-other-key", bobView!["name"]!.GetValue<string>());
        Assert.Equal(3, bobView["usage"]!["total"]!["requests"]!.GetValue<long>());
        Assert.DoesNotContain("alice", bobView.ToJsonString());

        // There is no way to name another key: query parameters and ids are not inputs.
        using var probe = new HttpRequestMessage(HttpMethod.Get, "/api/v1/self?api_key_id=2&name=bob-the-other-key");
        probe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice);
        var probed = JsonNode.Parse(await (await host.Http.SendAsync(probe)).Content.ReadAsStringAsync())!;
        Assert.Equal("alice", probed["name"]!.GetValue<string>());

        // Nor can the key reach the admin API.
        using var asAdmin = host.ClientFor(alice);
        Assert.Equal(HttpStatusCode.Unauthorized, (await asAdmin.GetAsync("/api/v1/api-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await asAdmin.GetAsync("/api/v1/stats/top?by=api_key")).StatusCode);
    }

    [Fact]
    public async Task Wrong_disabled_expired_or_missing_keys_and_admin_tokens_get_401()
    {
        var (host, mock) = await StartAsync();
        await using var _h = host;
        await using var _m = mock;
        var disabled = await host.AddApiKeyAsync("disabled", k => k with { Enabled = false });
        var expired = await host.AddApiKeyAsync("expired", k => k with { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds() });
        using var login = await host.Http.PostAsJsonAsync("/api/v1/auth/login", new JsonObject { ["username"] = "admin", ["password"] = AdminPassword });
        var adminToken = JsonNode.Parse(await login.Content.ReadAsStringAsync())!["token"]!.GetValue<string>();

        foreach (var (auth, message) in new (Action<HttpRequestHeaders>, string)[]
        {
            (Bearer("sk-oc-not-a-key"), "invalid API key"),
            (Bearer(disabled), "disabled"),
            (h => h.Add("x-api-key", expired), "expired"),
            (_ => { }, "missing API key"),
            (Bearer(adminToken), "invalid API key"),
        })
        {
            var (status, body, _) = await SelfAsync(host, auth);
            Assert.Equal(401, status);
            Assert.Equal("unauthorized", body!["error"]!["code"]!.GetValue<string>());
            Assert.Contains(message, body["error"]!["message"]!.GetValue<string>());
        }
        // The admin token still works where it belongs.
        using var admin = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode);
    }
}
