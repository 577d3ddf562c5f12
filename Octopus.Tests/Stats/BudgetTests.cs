using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Stats;

/// <summary>Client key budgets enforced on the relay path, against a real gateway and a mock upstream.</summary>
public sealed class BudgetTests
{
    /// <summary>Cost of one default mock OpenAI reply at <see cref="PriceAsync"/>'s prices: 8 uncached input, 4 cache-read, 5 output tokens.</summary>
    private const double CostPerRequest = (8 * 2.0 + 4 * 0.5 + 5 * 10.0) / 1_000_000;

    /// <summary>A clock the test moves. Always in the past: log ids are minted from request times and must never
    /// run ahead of the real clock other tests in this process rely on.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static async Task<(RelayHost Host, ManualClock Clock, MockUpstream Mock)> StartAsync(DateTimeOffset now)
    {
        var (host, clock) = await StartHostAsync(now);
        return (host, clock, await MockUpstream.StartAsync("up"));
    }

    private static async Task<(RelayHost Host, ManualClock Clock)> StartHostAsync(DateTimeOffset now, string? databasePath = null)
    {
        var clock = new ManualClock(now);
        var host = await RelayHost.StartAsync(
            c => { if (databasePath is not null) c.DatabasePath = databasePath; },
            b => b.Services.AddSingleton<TimeProvider>(clock));
        return (host, clock);
    }

    /// <summary>
    /// Sends a chat request and waits (bounded) until the gateway has recorded it: the client can have the whole
    /// response a moment before the relay prices it and releases its reservation.
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(RelayHost host, HttpClient client)
    {
        var res = await client.PostAsync("/v1/chat/completions", Chat("g"));
        await res.Content.LoadIntoBufferAsync();
        var tracker = host.Get<BudgetTracker>();
        for (var i = 0; i < 200 && tracker.InFlight > 0; i++) await Task.Delay(10);
        Assert.Equal(0, tracker.InFlight);
        return res;
    }

    private static async Task PriceAsync(RelayHost host, MockUpstream mock)
    {
        var channel = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel, model: "priced-model")], NoAffinity);
        await host.Get<PriceStore>().SetUserAsync(new Price { Model = "priced-model", Input = 2.0, Output = 10.0, CacheRead = 0.5, CacheWrite = 2.5 }, default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
    }

    private static async Task<long> KeyIdAsync(RelayHost host, string name) =>
        (await host.Get<ApiKeyStore>().ListAsync(default)).Single(k => k.Name == name).Id;

    private static HttpClient AnthropicClient(RelayHost host, string secret)
    {
        var c = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        c.DefaultRequestHeaders.Add("x-api-key", secret);
        c.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return c;
    }

    private static StringContent Messages(string model) =>
        new($$"""{"model":"{{model}}","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_spent_monthly_budget_refuses_the_next_request_with_a_protocol_shaped_429_and_retry_after()
    {
        var (host, _, mock) = await StartAsync(new DateTimeOffset(2025, 11, 30, 23, 0, 0, TimeSpan.Zero));
        await using var _h = host;
        await using var _m = mock;
        await PriceAsync(host, mock);
        var secret = await host.AddApiKeyAsync("budgeted", k => k with { Budget = CostPerRequest / 2, BudgetPeriod = "monthly" });
        using var openai = host.ClientFor(secret);

        var first = await SendAsync(host, openai);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(CostPerRequest, host.Get<BudgetTracker>().SpentOf(await KeyIdAsync(host, "budgeted"))!.Value, 12);

        var refused = await SendAsync(host, openai);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("3600", refused.Headers.GetValues("retry-after").Single());
        Assert.Equal("false", refused.Headers.GetValues("x-should-retry").Single());
        using (var doc = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            var error = doc.RootElement.GetProperty("error");
            Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
            Assert.Equal("insufficient_quota", error.GetProperty("code").GetString());
            var message = error.GetProperty("message").GetString()!;
            Assert.Contains("budget of $0.000034 per month is spent", message);
            Assert.Contains("it resets 2025-12-01T00:00:00Z", message);
        }

        using var anthropic = AnthropicClient(host, secret);
        var refusedAnthropic = await anthropic.PostAsync("/v1/messages", Messages("g"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedAnthropic.StatusCode);
        Assert.Equal("3600", refusedAnthropic.Headers.GetValues("retry-after").Single());
        using (var doc = JsonDocument.Parse(await refusedAnthropic.Content.ReadAsStringAsync()))
        {
            Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
            Assert.Equal("billing_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains("per month is spent", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        }

        // Refused requests never reach the upstream.
        Assert.Equal(1, mock.Count);
    }

    [Fact]
    public async Task A_total_budget_refuses_without_retry_after_and_keys_without_a_budget_are_not_limited()
    {
        var (host, _, mock) = await StartAsync(new DateTimeOffset(2025, 3, 10, 12, 0, 0, TimeSpan.Zero));
        await using var _h = host;
        await using var _m = mock;
        await PriceAsync(host, mock);
        using var capped = host.ClientFor(await host.AddApiKeyAsync("capped", k => k with { Budget = CostPerRequest / 2 }));
        using var free = host.ClientFor(await host.AddApiKeyAsync("free"));

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, capped)).StatusCode);
        var refused = await SendAsync(host, capped);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.False(refused.Headers.Contains("retry-after"));
        Assert.Contains("in total is spent", await refused.Content.ReadAsStringAsync());

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, free)).StatusCode);
        Assert.Null(host.Get<BudgetTracker>().SpentOf(await KeyIdAsync(host, "free")));
    }

    [Fact]
    public async Task A_monthly_budget_resets_at_the_start_of_the_next_month()
    {
        var (host, clock, mock) = await StartAsync(new DateTimeOffset(2025, 12, 31, 23, 59, 0, TimeSpan.Zero));
        await using var _h = host;
        await using var _m = mock;
        await PriceAsync(host, mock);
        using var client = host.ClientFor(await host.AddApiKeyAsync("k", k => k with { Budget = CostPerRequest * 1.5, BudgetPeriod = "monthly" }));

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, client)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, client)).StatusCode);
        var refused = await SendAsync(host, client);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("60", refused.Headers.GetValues("retry-after").Single());
        Assert.Contains("it resets 2026-01-01T00:00:00Z", await refused.Content.ReadAsStringAsync());

        clock.Now = new DateTimeOffset(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, client)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, client)).StatusCode);
        var again = await SendAsync(host, client);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Contains("it resets 2026-02-01T00:00:00Z", await again.Content.ReadAsStringAsync());
        Assert.Equal(4, mock.Count);
    }

    [Fact]
    public async Task Two_concurrent_requests_near_the_budget_do_not_both_pass_when_only_one_fits()
    {
        var now = new DateTimeOffset(2025, 5, 20, 10, 30, 0, TimeSpan.Zero);
        var (host, _, mock) = await StartAsync(now);
        await using var _h = host;
        await using var _m = mock;
        await PriceAsync(host, mock);
        // Both requests are held at the upstream, so neither is priced before the other is checked.
        mock.Behave = req => new MockUpstream.Reply { DelayBeforeHeaders = TimeSpan.FromMilliseconds(800), Body = Wire.OpenAIChatJson(req.Model!, "slow hello") };
        var secret = await host.AddApiKeyAsync("k", k => k with { Budget = 1.0, BudgetPeriod = "daily" });
        var keyId = await KeyIdAsync(host, "k");
        // Earlier today: $0.9999 over 10 requests, so one more (estimated at the average, ~$0.1) fits and two do not.
        await host.Get<StatsStore>().AddAsync([new StatsDelta
        {
            Hour = new DateTimeOffset(2025, 5, 20, 8, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(),
            ApiKeyId = keyId, GroupName = "g", ChannelId = 1, Model = "priced-model", RequestsOk = 10, Cost = 0.9999,
        }], default);

        using var client = host.ClientFor(secret);
        var replies = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => client.PostAsync("/v1/chat/completions", Chat("g"))));
        var statuses = replies.Select(r => r.StatusCode).OrderBy(s => s).ToArray();
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(1, mock.Count);
        var tracker = host.Get<BudgetTracker>();
        for (var i = 0; i < 200 && tracker.InFlight > 0; i++) await Task.Delay(10);
        Assert.Equal(0.9999 + CostPerRequest, tracker.SpentOf(keyId)!.Value, 9);
    }

    [Fact]
    public async Task Spend_already_in_the_database_counts_after_a_restart()
    {
        var dir = Directory.CreateTempSubdirectory("octopus-budget-").FullName;
        var dbPath = Path.Combine(dir, "data.db");
        var now = new DateTimeOffset(2025, 7, 16, 9, 0, 0, TimeSpan.Zero); // a Wednesday
        try
        {
            await using var mock = await MockUpstream.StartAsync("up");
            string secret;
            var (first, _) = await StartHostAsync(now, dbPath);
            await using (first)
            {
                await PriceAsync(first, mock);
                secret = await first.AddApiKeyAsync("k", k => k with { Budget = CostPerRequest * 1.5, BudgetPeriod = "weekly" });
                using var client = first.ClientFor(secret);
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(first, client)).StatusCode);
                // What a graceful shutdown does: the in-memory counts go to the database.
                await first.Get<StatsFlusher>().FinalFlushAsync(default);
            }

            var (second, _) = await StartHostAsync(now.AddDays(1), dbPath);
            await using (second)
            {
                using var client = second.ClientFor(secret);
                // The restarted gateway knows nothing in memory: the stored cost alone leaves room for one more.
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(second, client)).StatusCode);
                var refused = await SendAsync(second, client);
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
                var body = await refused.Content.ReadAsStringAsync();
                Assert.Contains("per week is spent", body);
                Assert.Contains("it resets 2025-07-21T00:00:00Z", body);
                Assert.Equal(2, mock.Count);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Theory]
    [InlineData("daily", "2026-03-04T15:20:00Z", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z")]
    [InlineData("weekly", "2026-03-04T15:20:00Z", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")]
    [InlineData("weekly", "2026-03-08T23:59:59Z", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")]
    [InlineData("weekly", "2026-03-09T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z")]
    [InlineData("monthly", "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("total", "2026-12-31T23:59:59Z", "1970-01-01T00:00:00Z", null)]
    public void Periods_start_and_reset_at_UTC_boundaries(string period, string now, string start, string? reset)
    {
        var (s, r) = BudgetTracker.Bounds(period, DateTimeOffset.Parse(now));
        Assert.Equal(DateTimeOffset.Parse(start), s);
        Assert.Equal(reset is null ? null : DateTimeOffset.Parse(reset), r);
    }
}
