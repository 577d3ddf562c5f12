using System.Net;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Notifications;
using Octopus.Relay;
using Octopus.Settings;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

/// <summary>The failure webhook against a local HTTP receiver: each format's body, no secrets, rate limits, never blocking.</summary>
public sealed class FailureNotifierTests
{
    private static readonly GroupSettings Quick = new() { AffinitySeconds = 0, ResponseTimeoutSeconds = 5, CooldownSeconds = 0 };
    private const string UpstreamKey = "sk-upstream-very-secret-key-0001";

    private static async Task ConfigureAsync(RelayHost host, string url, string format, int intervalMinutes = 10, int maxPerHour = 20)
    {
        await host.Get<SettingStore>().SetAsync(new Dictionary<string, string>
        {
            ["notify_webhook_url"] = url,
            ["notify_webhook_format"] = format,
            ["notify_interval_minutes"] = intervalMinutes.ToString(),
            ["notify_max_per_hour"] = maxPerHour.ToString(),
        }, default);
        await host.Get<SettingsService>().ReloadAsync(default);
    }

    /// <summary>A channel whose upstream refuses the key (401, echoing it) and a group on it.</summary>
    private static async Task<(ProxyTests.Upstream Upstream, HttpClient Client)> RefusingGroupAsync(RelayHost host)
    {
        var up = await ProxyTests.Upstream.StartAsync();
        up.Reply = (ctx, _) =>
        {
            ctx.Response.StatusCode = 401;
            return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(ctx.Response,
                """{"error":{"message":"Incorrect API key provided: sk-upstream-very-secret-key-0001","type":"invalid_request_error"}}""");
        };
        var channel = await host.AddChannelAsync("refusing", ChannelType.OpenAI, [up.Url + "/v1"], [UpstreamKey]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel)], Quick);
        return (up, host.ClientFor(await host.AddApiKeyAsync()));
    }

    private static async Task<List<ProxyTests.Upstream.Seen>> WaitForAsync(ProxyTests.Upstream receiver, int n)
    {
        await RelayFailoverTests.WaitUntil(() => Task.FromResult(receiver.Requests.Count >= n), 10_000);
        return [.. receiver.Requests];
    }

    [Fact]
    public async Task Generic_webhook_reports_key_and_channel_set_aside_and_group_failure_without_secrets()
    {
        await using var host = await StartAsync();
        await using var receiver = await ProxyTests.Upstream.StartAsync();
        await ConfigureAsync(host, receiver.Url + "/hook", "generic");
        var (up, client) = await RefusingGroupAsync(host);
        await using var upstream = up;

        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        Assert.Equal(HttpStatusCode.BadGateway, res.StatusCode);

        var seen = await WaitForAsync(receiver, 3);
        Assert.All(seen, s =>
        {
            Assert.Equal("POST", s.Method);
            Assert.Equal("/hook", s.Path);
            Assert.StartsWith("application/json", s.Headers["content-type"]);
            Assert.DoesNotContain("very-secret", s.Text);
        });
        var events = seen.Select(s => JsonDocument.Parse(s.Body).RootElement).ToList();
        Assert.All(events, e =>
        {
            Assert.Equal("octopus", e.GetProperty("source").GetString());
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("time").GetString(), out _));
        });
        var byEvent = events.ToDictionary(e => e.GetProperty("event").GetString()!);
        Assert.Equal(["channel_set_aside", "group_failed", "key_set_aside"], byEvent.Keys.Order());
        Assert.Equal("group 'g'", byEvent["group_failed"].GetProperty("subject").GetString());
        Assert.Contains("502", byEvent["group_failed"].GetProperty("message").GetString());
        Assert.Equal("channel 'refusing'", byEvent["channel_set_aside"].GetProperty("subject").GetString());
        Assert.Contains("upstream answered 401", byEvent["key_set_aside"].GetProperty("message").GetString());
        Assert.Contains("[redacted]", byEvent["key_set_aside"].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Feishu_webhook_gets_a_text_message()
    {
        await using var host = await StartAsync();
        await using var receiver = await ProxyTests.Upstream.StartAsync();
        await ConfigureAsync(host, receiver.Url + "/open-apis/bot/v2/hook/abc", "feishu");
        var dead = await host.AddChannelAsync("dead", ChannelType.OpenAI, [$"http://127.0.0.1:{RelayFailoverTests.ClosedPort()}/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(dead)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        var s = Assert.Single(await WaitForAsync(receiver, 1));
        Assert.Equal("POST", s.Method);
        var body = JsonDocument.Parse(s.Body).RootElement;
        Assert.Equal("text", body.GetProperty("msg_type").GetString());
        var text = body.GetProperty("content").GetProperty("text").GetString()!;
        Assert.StartsWith("[Octopus] Every member of group 'g' failed a request (502)", text);
        Assert.Equal(2, body.EnumerateObject().Count());
    }

    [Fact]
    public async Task Matrix_webhook_puts_a_room_message_with_a_transaction_id()
    {
        await using var host = await StartAsync();
        await using var receiver = await ProxyTests.Upstream.StartAsync();
        await ConfigureAsync(host, receiver.Url + "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message?access_token=matrix-token", "matrix");
        var dead = await host.AddChannelAsync("dead", ChannelType.OpenAI, [$"http://127.0.0.1:{RelayFailoverTests.ClosedPort()}/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(dead)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        var s = Assert.Single(await WaitForAsync(receiver, 1));
        Assert.Equal("PUT", s.Method);
        Assert.StartsWith("/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/octopus-", s.Path);
        Assert.Equal("?access_token=matrix-token", s.Query);
        var body = JsonDocument.Parse(s.Body).RootElement;
        Assert.Equal("m.text", body.GetProperty("msgtype").GetString());
        Assert.StartsWith("[Octopus] Every member of group 'g' failed", body.GetProperty("body").GetString());
    }

    [Fact]
    public async Task Notices_are_rate_limited_per_subject_and_in_total_and_never_block_the_relay()
    {
        await using var host = await StartAsync();
        await using var receiver = await ProxyTests.Upstream.StartAsync();
        // The receiver hangs until released: the relay must answer its clients all the same.
        var release = new TaskCompletionSource();
        receiver.Reply = async (ctx, _) => await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await ConfigureAsync(host, receiver.Url + "/hook", "generic", intervalMinutes: 10, maxPerHour: 2);
        var dead = await host.AddChannelAsync("dead", ChannelType.OpenAI, [$"http://127.0.0.1:{RelayFailoverTests.ClosedPort()}/v1"]);
        foreach (var name in new[] { "g1", "g2", "g3" }) await host.AddGroupAsync(name, GroupMode.Failover, [Member(dead)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        // Three failures of g1 within the interval: one notice.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g1"))).StatusCode);
        // Another subject: a second notice. A third subject: over the global cap of 2 per hour.
        Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g2"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g3"))).StatusCode);

        var notifier = host.Get<FailureNotifier>();
        Assert.Equal(3, notifier.Suppressed);
        release.SetResult();
        var seen = await WaitForAsync(receiver, 2);
        await RelayFailoverTests.WaitUntil(() => Task.FromResult(notifier.Sent == 2), 10_000);
        await Task.Delay(300);
        Assert.Equal(2, receiver.Requests.Count);
        var subjects = seen.Select(s => JsonDocument.Parse(s.Body).RootElement.GetProperty("subject").GetString()).Order().ToList();
        Assert.Equal(["group 'g1'", "group 'g2'"], subjects);
    }

    [Fact]
    public async Task Nothing_is_sent_while_the_webhook_url_is_empty()
    {
        await using var host = await StartAsync();
        var dead = await host.AddChannelAsync("dead", ChannelType.OpenAI, [$"http://127.0.0.1:{RelayFailoverTests.ClosedPort()}/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(dead)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        Assert.Equal(HttpStatusCode.BadGateway, (await client.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
        Assert.Equal(0, host.Get<FailureNotifier>().Sent);
        Assert.Equal(0, host.Get<FailureNotifier>().Suppressed);
    }

    [Theory]
    [InlineData("Incorrect API key provided: sk-proj-abcdefghijklmnop1234", "sk-proj")]
    [InlineData("auth failed: Bearer abcdefghijklmnopqrstuvwx", "abcdefgh")]
    [InlineData("key AIzaSyA1234567890abcdefghijk was refused", "AIzaSy")]
    [InlineData("Incorrect API key provided: sk-proj-********************ab12.", "ab12")]
    public void Scrub_removes_key_shaped_text(string text, string leaked)
    {
        var scrubbed = SecretScrubber.Scrub(text, null);
        Assert.DoesNotContain(leaked, scrubbed);
        Assert.Contains("[redacted]", scrubbed);
    }
}
