using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Relay.Health;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

/// <summary>Per channel and per key: recent success rate, latency and last error, as the admin API shows them.</summary>
public sealed class ChannelHealthTests
{
    private const string AdminPassword = "health-test-admin-password";

    [Fact]
    public async Task Channel_and_key_health_count_recent_successes_and_failures_and_hide_secrets_in_the_last_error()
    {
        await using var host = await RelayHost.StartAsync(c => c.AdminPassword = AdminPassword);
        await using var flaky = await MockUpstream.StartAsync("flaky");
        await using var steady = await MockUpstream.StartAsync("steady");
        const string secret = "sk-upstream-flaky-0123456789abcdef";
        var flakyChannel = await host.AddChannelAsync("flaky", ChannelType.OpenAI, [flaky.BaseUrl], [secret]);
        var steadyChannel = await host.AddChannelAsync("steady", ChannelType.OpenAI, [steady.BaseUrl]);
        // One attempt per member, flaky first: a flaky failure moves on to steady.
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(flakyChannel), Member(steadyChannel)],
            new GroupSettings { AffinitySeconds = 0, AttemptsPerMember = 1, CooldownSeconds = 0 });
        // The upstream echoes the key it was sent, as some providers do in their 401/500 messages.
        flaky.Behave = r => r.BodyText.Contains("fail")
            ? new MockUpstream.Reply { Status = 500, Body = $$$"""{"error":{"message":"internal error for key {{{r.Key}}} (Bearer {{{r.Key}}})"}}""" }
            : r.BodyText.Contains("bad-request") ? new MockUpstream.Reply { Status = 400, Body = """{"error":{"message":"messages: too long"}}""" } : null;
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        foreach (var text in new[] { "ok", "fail", "ok", "fail", "ok", "ok" })
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g", text))).StatusCode);
        // A client mistake the upstream refuses is not the channel's failure.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/chat/completions", Chat("g", "bad-request"))).StatusCode);

        using var login = await host.Http.PostAsJsonAsync("/api/v1/auth/login", new JsonObject { ["username"] = "admin", ["password"] = AdminPassword });
        using var admin = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            JsonNode.Parse(await login.Content.ReadAsStringAsync())!["token"]!.GetValue<string>());

        var (status, health) = await admin.GetJsonAsync($"/api/v1/channels/{flakyChannel.Id}/health");
        Assert.Equal(200, status);
        Assert.Equal(ChannelHealth.Window, health!["window"]!.GetValue<int>());
        Assert.Equal(7, health["attempts"]!.GetValue<int>());
        Assert.Equal(5, health["succeeded"]!.GetValue<int>());
        Assert.Equal(5.0 / 7, health["success_rate"]!.GetValue<double>(), 9);
        Assert.True(health["avg_latency_ms"]!.GetValue<long>() >= 0);
        var lastError = health["last_error"]!;
        Assert.Equal(500, lastError["status"]!.GetValue<int>());
        var message = lastError["message"]!.GetValue<string>();
        Assert.Contains("internal error for key", message);
        Assert.DoesNotContain(secret, message);
        Assert.DoesNotContain("0123456789abcdef", message);
        Assert.Contains("[redacted]", message);
        Assert.NotNull(lastError["at"]);
        var key = health["keys"]!.AsArray().Single()!;
        Assert.Equal(flakyChannel.Keys[0].Id, key["id"]!.GetValue<long>());
        Assert.Equal(7, key["attempts"]!.GetValue<int>());
        Assert.Equal(5, key["succeeded"]!.GetValue<int>());
        Assert.Equal(500, key["last_error"]!["status"]!.GetValue<int>());

        // The channel list carries the same figures; the steady channel only saw the two failovers.
        var (_, list) = await admin.GetJsonAsync("/api/v1/channels");
        var steadyHealth = list!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "steady")!["health"]!;
        Assert.Equal(2, steadyHealth["attempts"]!.GetValue<int>());
        Assert.Equal(1.0, steadyHealth["success_rate"]!.GetValue<double>());
        Assert.Null(steadyHealth["last_error"]);
        Assert.Equal(7, list.AsArray().Single(c => c!["name"]!.GetValue<string>() == "flaky")!["health"]!["attempts"]!.GetValue<int>());
        // A channel saved back as read is accepted (health is read-only and ignored).
        var flakyDto = list.AsArray().Single(c => c!["name"]!.GetValue<string>() == "flaky")!.DeepClone();
        Assert.Equal(200, (await admin.PutJsonAsync($"/api/v1/channels/{flakyChannel.Id}", flakyDto)).Status);

        // A backup never carries health.
        var (_, backup) = await admin.GetJsonAsync("/api/v1/backup");
        Assert.All(backup!["channels"]!.AsArray(), c => Assert.Null(c!["health"]));
        Assert.Equal(404, (await admin.GetJsonAsync("/api/v1/channels/9999/health")).Status);
    }
}
