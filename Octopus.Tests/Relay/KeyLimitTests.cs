using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Domain;
using Octopus.Relay.Limits;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Relay;

/// <summary>Per-key and per-group RPM, TPM and concurrency limits on a real gateway, time moved by a test clock.</summary>
public sealed class KeyLimitTests
{
    /// <summary>A clock the test moves; it starts an hour back so log ids never run ahead of the real clock.</summary>
    internal sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow.AddHours(-1);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static async Task<(RelayHost Host, ManualClock Clock, MockUpstream Mock)> StartAsync(Func<ApiKey, ApiKey> limits, params string[] groups)
    {
        var clock = new ManualClock();
        var host = await RelayHost.StartAsync(null, b => b.Services.AddSingleton<TimeProvider>(clock));
        var mock = await MockUpstream.StartAsync("up");
        var channel = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl]);
        foreach (var g in groups.Length == 0 ? ["g"] : groups)
            await host.AddGroupAsync(g, GroupMode.Failover, [Member(channel)], NoAffinity);
        await host.AddApiKeyAsync("limited", limits);
        return (host, clock, mock);
    }

    private static async Task<string> SecretAsync(RelayHost host, Func<ApiKey, ApiKey> limits, string name = "limited2") =>
        await host.AddApiKeyAsync(name, limits);

    private static async Task<long> KeyIdAsync(RelayHost host, string name) =>
        (await host.Get<ApiKeyStore>().ListAsync(default)).Single(k => k.Name == name).Id;

    /// <summary>The response is complete a moment before the relay records the request and frees its slot.</summary>
    private static async Task SettledAsync(RelayHost host, long keyId, string group = "")
    {
        var limiter = host.Get<KeyLimiter>();
        for (var i = 0; i < 300 && limiter.Use(keyId, group) is { InFlight: > 0 }; i++) await Task.Delay(10);
        Assert.Equal(0, limiter.Use(keyId, group)?.InFlight ?? 0);
    }

    private static async Task<HttpResponseMessage> OpenAIAsync(RelayHost host, string secret, string group = "g")
    {
        using var client = host.ClientFor(secret);
        var res = await client.PostAsync("/v1/chat/completions", Chat(group));
        await res.Content.LoadIntoBufferAsync();
        return res;
    }

    private static async Task<HttpResponseMessage> AnthropicAsync(RelayHost host, string secret, string group = "g")
    {
        using var c = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        c.DefaultRequestHeaders.Add("x-api-key", secret);
        c.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        var res = await c.PostAsync("/v1/messages", new StringContent(
            $$"""{"model":"{{group}}","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        await res.Content.LoadIntoBufferAsync();
        return res;
    }

    private static async Task<HttpResponseMessage> GeminiAsync(RelayHost host, string secret, string group = "g")
    {
        using var c = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        c.DefaultRequestHeaders.Add("x-goog-api-key", secret);
        var res = await c.PostAsync($"/v1beta/models/{group}:generateContent", new StringContent(
            """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json"));
        await res.Content.LoadIntoBufferAsync();
        return res;
    }

    /// <summary>A 429 in each protocol's own error shape, with retry-after in whole seconds.</summary>
    private static async Task AssertLimitedAsync(HttpResponseMessage res, string protocol, string retryAfter, string mention)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, res.StatusCode);
        Assert.Equal(retryAfter, res.Headers.GetValues("retry-after").Single());
        Assert.False(res.Headers.Contains("x-should-retry"));
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        var error = root.GetProperty("error");
        switch (protocol)
        {
            case "anthropic":
                Assert.Equal("error", root.GetProperty("type").GetString());
                Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
                break;
            case "gemini":
                Assert.Equal(429, error.GetProperty("code").GetInt32());
                Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("status").GetString());
                break;
            default:
                Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
                Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
                break;
        }
        Assert.Contains(mention, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Rpm_limit_refuses_past_the_limit_in_every_protocol_shape_and_admits_again_after_the_window()
    {
        var (host, clock, mock) = await StartAsync(k => k with { RequestsPerMinute = 2 });
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { RequestsPerMinute = 2 });
        var id = await KeyIdAsync(host, "limited2");

        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
        clock.Now = clock.Now.AddSeconds(20);
        Assert.Equal(HttpStatusCode.OK, (await AnthropicAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);

        // The first request leaves the window 60 s after it was admitted: 40 s from now.
        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "40", "2 requests per minute");
        await AssertLimitedAsync(await AnthropicAsync(host, secret), "anthropic", "40", "2 requests per minute");
        await AssertLimitedAsync(await GeminiAsync(host, secret), "gemini", "40", "2 requests per minute");
        Assert.Equal(2, mock.Count); // refused requests never reach the upstream

        clock.Now = clock.Now.AddSeconds(39);
        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "1", "requests per minute");
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal(HttpStatusCode.OK, (await GeminiAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);
        // Refused requests did not count: the window holds the second and the third admitted request.
        Assert.Equal(2, host.Get<KeyLimiter>().Use(id)!.Value.Requests);
        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "20", "requests per minute");

        // Another key has its own window.
        using var other = host.ClientFor(await host.AddApiKeyAsync("free"));
        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/v1/chat/completions", Chat("g"))).StatusCode);
    }

    [Fact]
    public async Task Tpm_limit_counts_the_tokens_of_finished_requests_and_admits_again_when_they_leave_the_window()
    {
        // One default mock reply uses 12 input + 5 output tokens. A window under the limit admits the next request.
        var (host, clock, mock) = await StartAsync(k => k);
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { TokensPerMinute = 30 });
        var id = await KeyIdAsync(host, "limited2");

        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);
        Assert.Equal(17, host.Get<KeyLimiter>().Use(id)!.Value.Tokens);
        clock.Now = clock.Now.AddSeconds(10);
        Assert.Equal(HttpStatusCode.OK, (await AnthropicAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);
        Assert.True(host.Get<KeyLimiter>().Use(id)!.Value.Tokens >= 30);

        // Dropping the first request's tokens (50 s from now) brings the window back under 30.
        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "50", "30 tokens per minute");
        await AssertLimitedAsync(await AnthropicAsync(host, secret), "anthropic", "50", "30 tokens per minute");
        await AssertLimitedAsync(await GeminiAsync(host, secret), "gemini", "50", "30 tokens per minute");
        Assert.Equal(2, mock.Count);

        clock.Now = clock.Now.AddSeconds(50);
        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
    }

    [Fact]
    public async Task Proxied_requests_count_against_the_key_limits_like_relayed_ones()
    {
        var (host, clock, mock) = await StartAsync(k => k);
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { RequestsPerMinute = 2, MaxConcurrency = 1 });
        var id = await KeyIdAsync(host, "limited2");
        using var client = host.ClientFor(secret);

        // Sequential proxied requests on a one-slot key are never refused for their own predecessor.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/proxy/g/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);

        var refused = await client.GetAsync("/proxy/g/models");
        await AssertLimitedAsync(refused, "openai", "60", "2 requests per minute");
        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "60", "2 requests per minute");
        Assert.Equal(2, mock.Count);

        clock.Now = clock.Now.AddSeconds(60);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/proxy/g/models")).StatusCode);
        await SettledAsync(host, id);
    }

    [Fact]
    public async Task A_sequential_client_on_a_one_slot_key_never_finds_its_slot_still_taken()
    {
        // The slot goes back before the reply's last bytes do: a client that sends its next request as soon as it
        // has read a reply (a success or an upstream error) is never refused for its own previous request.
        var (host, _, mock) = await StartAsync(k => k);
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { MaxConcurrency = 1 });
        for (var i = 0; i < 60; i++)
        {
            mock.Behave = i % 3 == 1 ? _ => new MockUpstream.Reply { Status = 400, Body = """{"error":{"message":"bad"}}""" } : null;
            var response = i % 3 == 2 ? await AnthropicAsync(host, secret) : await OpenAIAsync(host, secret);
            await response.Content.ReadAsByteArrayAsync();
            Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
        }
    }

    [Fact]
    public async Task Concurrency_limit_refuses_while_the_slots_are_taken_and_frees_them_when_requests_end()
    {
        var (host, _, mock) = await StartAsync(k => k);
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { MaxConcurrency = 1 });
        var id = await KeyIdAsync(host, "limited2");
        using var gate = new ManualResetEventSlim(false);
        mock.Behave = r => { gate.Wait(TimeSpan.FromSeconds(30)); return null; };

        var first = OpenAIAsync(host, secret);
        var limiter = host.Get<KeyLimiter>();
        for (var i = 0; i < 300 && limiter.Use(id) is not { InFlight: 1 }; i++) await Task.Delay(10);
        Assert.Equal(1, limiter.Use(id)!.Value.InFlight);

        await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "1", "1 concurrent request");
        await AssertLimitedAsync(await AnthropicAsync(host, secret), "anthropic", "1", "1 concurrent request");
        await AssertLimitedAsync(await GeminiAsync(host, secret), "gemini", "1", "1 concurrent request");

        gate.Set();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        await SettledAsync(host, id);
        Assert.Equal(HttpStatusCode.OK, (await AnthropicAsync(host, secret)).StatusCode);

        // A failed request frees its slot too.
        mock.Behave = _ => new MockUpstream.Reply { Status = 500, Body = """{"error":{"message":"boom"}}""" };
        Assert.Equal(HttpStatusCode.BadGateway, (await OpenAIAsync(host, secret)).StatusCode);
        await SettledAsync(host, id);
        mock.Behave = null;
        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_request_frees_its_concurrency_slot()
    {
        var (host, _, mock) = await StartAsync(k => k);
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with { MaxConcurrency = 1 });
        var id = await KeyIdAsync(host, "limited2");
        // The stream sends its first event, then stalls: the gateway has committed to the client when it leaves.
        mock.Behave = r => new MockUpstream.Reply { Events = Wire.OpenAIChatStream("m", new Wire.Answer("partial"), false), StallAfter = 2 };

        using var client = host.ClientFor(secret);
        using (var cts = new CancellationTokenSource())
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("g", stream: true) };
            using var res = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            Assert.Equal(1, host.Get<KeyLimiter>().Use(id)!.Value.InFlight);
            await AssertLimitedAsync(await OpenAIAsync(host, secret), "openai", "1", "concurrent request");
            cts.Cancel();
        }
        client.Dispose(); // closes the connection: the gateway sees the client go

        await SettledAsync(host, id);
        mock.Behave = null;
        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret)).StatusCode);
    }

    [Fact]
    public async Task A_per_group_limit_applies_to_that_group_only_on_top_of_the_key_wide_limit()
    {
        var (host, clock, mock) = await StartAsync(k => k, "g1", "g2");
        await using var _h = host;
        await using var _m = mock;
        var secret = await SecretAsync(host, k => k with
        {
            RequestsPerMinute = 4,
            GroupLimits = new Dictionary<string, RateLimits> { ["g1"] = new() { Rpm = 1 } },
        });
        var id = await KeyIdAsync(host, "limited2");

        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret, "g1")).StatusCode);
        await SettledAsync(host, id);
        clock.Now = clock.Now.AddSeconds(15);
        await AssertLimitedAsync(await AnthropicAsync(host, secret, "g1"), "anthropic", "45", "for group 'g1'");
        // g2 only has the key-wide limit; the refused g1 request did not use it up.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret, "g2")).StatusCode);
        await SettledAsync(host, id);
        Assert.Equal(4, host.Get<KeyLimiter>().Use(id)!.Value.Requests);
        Assert.Equal(1, host.Get<KeyLimiter>().Use(id, "g1")!.Value.Requests);
        await AssertLimitedAsync(await GeminiAsync(host, secret, "g2"), "gemini", "45", "4 requests per minute");

        clock.Now = clock.Now.AddSeconds(45);
        Assert.Equal(HttpStatusCode.OK, (await OpenAIAsync(host, secret, "g1")).StatusCode);
    }
}
