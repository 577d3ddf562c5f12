using System.Net;
using System.Net.Http.Headers;
using Octopus.Domain;
using Octopus.Relay;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Stats;

/// <summary>Counts live in memory between flushes; these tests prove none is lost or doubled across shutdowns.</summary>
public sealed class StatsDurabilityTests
{
    /// <summary>Seeds a channel on the mock, a group, a priced model and a client key; returns the key's secret.</summary>
    internal static async Task<string> SeedAsync(Database db, MockUpstream mock, int flushMinutes = 60)
    {
        var channel = await new ChannelStore(db).CreateAsync(new Channel
        {
            Name = "c",
            Type = ChannelType.OpenAI,
            BaseUrls = [new ChannelBaseUrl { Url = mock.BaseUrl }],
            Keys = [new ChannelKey { Secret = "sk-up" }],
        }, default);
        await new GroupStore(db).CreateAsync(new Group
        {
            Name = "g",
            Mode = GroupMode.RoundRobin,
            Members = [new GroupMember { ChannelId = channel.Id, Model = "priced-model" }],
        }, default);
        await new PriceStore(db).SetUserAsync(new Price { Model = "priced-model", Input = 2.0, Output = 10.0, CacheRead = 0.5, CacheWrite = 2.5, Source = PriceSource.User }, default);
        await new SettingStore(db).SetAsync(new Dictionary<string, string> { ["stats_save_interval"] = flushMinutes.ToString() }, default);
        var secret = "sk-oct-durability-" + Guid.NewGuid().ToString("N");
        await new ApiKeyStore(db).CreateAsync(new ApiKey { Name = "k", KeyHash = ClientAuth.Hash(secret), KeyHint = "sk-oct…" }, default);
        return secret;
    }

    /// <summary>Cost of one mock reply at the seeded prices: 8 uncached input, 4 cache-read, 5 output tokens.</summary>
    internal const double CostPerRequest = (8 * 2.0 + 4 * 0.5 + 5 * 10.0) / 1_000_000;

    internal static async Task SendAsync(string baseUrl, string secret, int n, int concurrency = 8)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = Enumerable.Range(0, n).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var res = await http.PostAsync("/v1/chat/completions", Chat("g", $"question {i}", stream: i % 2 == 0));
                Assert.Equal(HttpStatusCode.OK, res.StatusCode);
                await res.Content.ReadAsStringAsync();
            }
            finally { gate.Release(); }
        });
        await Task.WhenAll(tasks);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Requests_counted_in_memory_are_all_in_the_database_after_SIGTERM_and_a_restart_adds_nothing(string kind)
    {
        await using var tdb = await TestDatabase.CreateAsync(kind == "postgres" ? DbKind.Postgres : DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        await using var mock = await MockUpstream.StartAsync("up");
        var secret = await SeedAsync(db, mock);
        var workDir = Directory.CreateTempSubdirectory("octopus-durable-").FullName;
        const int n = 60;

        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
        {
            await SendAsync(gw.BaseUrl, secret, n);
            // The flush interval is an hour: nothing is in the database until shutdown flushes it.
            Assert.Equal(0, (await new StatsStore(db).TotalsAsync(new StatsFilter(), default)).RequestsOk);
            await gw.TerminateCleanlyAsync();
        }

        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(n, totals.RequestsOk);
        Assert.Equal(0, totals.RequestsFailed);
        Assert.Equal(n * Wire.PromptTokens, totals.InputTokens);
        Assert.Equal(n * Wire.CachedTokens, totals.CacheReadTokens);
        Assert.Equal(n * Wire.OutputTokens, totals.OutputTokens);
        Assert.Equal(n * CostPerRequest, totals.Cost, 9);

        // A restart and a second clean stop add nothing (flushes are additive deltas, never totals).
        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
            await gw.TerminateCleanlyAsync();
        Assert.Equal(n, (await new StatsStore(db).TotalsAsync(new StatsFilter(), default)).RequestsOk);

        // Every request has its log line.
        await WaitForLogsAsync(db, n);
    }

    internal static async Task WaitForLogsAsync(Database db, int n)
    {
        var page = await new RequestLogStore(db).QueryAsync(new RequestLogFilter { Limit = 1000 }, default);
        Assert.Equal(n, page.Items.Count);
    }

    [Fact]
    public async Task Two_processes_on_one_PostgreSQL_add_up()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Postgres);
        var db = await tdb.OpenMigratedAsync();
        await using var mock = await MockUpstream.StartAsync("up");
        var secret = await SeedAsync(db, mock);

        using var a = await GatewayProcess.StartAsync(tdb.Config, Directory.CreateTempSubdirectory("octopus-a-").FullName);
        using var b = await GatewayProcess.StartAsync(tdb.Config, Directory.CreateTempSubdirectory("octopus-b-").FullName);
        await Task.WhenAll(SendAsync(a.BaseUrl, secret, 40), SendAsync(b.BaseUrl, secret, 40));
        await a.TerminateCleanlyAsync();
        await b.TerminateCleanlyAsync();

        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(80, totals.RequestsOk);
        Assert.Equal(80 * Wire.OutputTokens, totals.OutputTokens);
    }
}
