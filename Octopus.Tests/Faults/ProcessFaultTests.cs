using System.Net;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using Octopus.Tests.Stats;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Faults;

/// <summary>The gateway as a real process, stopped by SIGTERM or killed with SIGKILL while clients are busy.</summary>
public sealed class ProcessFaultTests
{
    /// <summary>Client-side tally of a load run: requests that got a complete answer, and those that did not.</summary>
    private sealed class Tally
    {
        public long Complete, Broken, Refused;
    }

    /// <summary>Eight clients sending mixed stream / non-stream requests until the gateway goes away (bounded to 60 s).</summary>
    private static Task RunLoadAsync(string baseUrl, string secret, Tally tally, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            var until = DateTime.UtcNow.AddSeconds(60);
            for (var i = 0; !stop.IsCancellationRequested && DateTime.UtcNow < until; i++)
            {
                var stream = i % 2 == 0;
                HttpResponseMessage res;
                try
                {
                    res = await http.PostAsync("/v1/chat/completions", Chat("g", $"worker {w} request {i}", stream), CancellationToken.None);
                }
                catch (HttpRequestException)
                {
                    // Not accepted: the gateway is no longer listening.
                    Interlocked.Increment(ref tally.Refused);
                    return;
                }
                try
                {
                    var body = await res.Content.ReadAsStringAsync();
                    var whole = res.StatusCode == HttpStatusCode.OK && (stream ? body.EndsWith("data: [DONE]\n\n") : body.Contains("\"usage\""));
                    Interlocked.Increment(ref whole ? ref tally.Complete : ref tally.Broken);
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    Interlocked.Increment(ref tally.Broken);
                }
            }
        })));

    [Fact]
    public async Task SIGTERM_under_load_finishes_what_it_accepted_and_counts_every_answered_request()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        await using var mock = await MockUpstream.StartAsync("up");
        // Slow enough that requests are in flight when the signal arrives.
        mock.Behave = r => mock.DefaultReply(r) with { DelayBetweenEvents = TimeSpan.FromMilliseconds(40), DelayBeforeHeaders = TimeSpan.FromMilliseconds(20) };
        var secret = await StatsDurabilityTests.SeedAsync(db, mock);
        var workDir = Directory.CreateTempSubdirectory("octopus-sigterm-").FullName;

        var tally = new Tally();
        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
        {
            using var stop = new CancellationTokenSource();
            var load = RunLoadAsync(gw.BaseUrl, secret, tally, stop.Token);
            await Task.Delay(3000);
            var inFlight = mock.InFlight;
            await gw.TerminateCleanlyAsync();
            stop.Cancel();
            await load;
            Assert.True(inFlight > 0, "no request was in flight when SIGTERM arrived");
        }

        Assert.True(tally.Complete >= 8, $"only {tally.Complete} requests completed");
        // Requests already accepted were finished, not cut.
        Assert.Equal(0, tally.Broken);
        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(tally.Complete, totals.RequestsOk);
        Assert.Equal(0, totals.RequestsFailed);
        Assert.Equal(tally.Complete * Wire.OutputTokens, totals.OutputTokens);
        Assert.Equal(tally.Complete, await CountLogsAsync(db));
        Assert.Equal(tally.Complete, mock.Count);
    }

    [Fact]
    public async Task Kill_9_loses_at_most_the_unflushed_counts_and_never_corrupts_the_SQLite_database()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        await using var mock = await MockUpstream.StartAsync("up");
        // The shortest flush interval (1 min): the killed run below is shorter, so all of its counts are unflushed.
        var secret = await StatsDurabilityTests.SeedAsync(db, mock, flushMinutes: 1);
        var workDir = Directory.CreateTempSubdirectory("octopus-kill9-").FullName;

        // A clean run first: what it counted is in the database.
        var first = new Tally();
        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await RunLoadAsync(gw.BaseUrl, secret, first, stop.Token);
            await gw.TerminateCleanlyAsync();
        }
        Assert.Equal(first.Complete, (await new StatsStore(db).TotalsAsync(new StatsFilter(), default)).RequestsOk);

        // Then SIGKILL in the middle of load, with request logs being written all the time.
        var second = new Tally();
        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
        {
            using var stop = new CancellationTokenSource();
            var load = RunLoadAsync(gw.BaseUrl, secret, second, stop.Token);
            await Task.Delay(2000);
            gw.Kill();
            stop.Cancel();
            await load;
        }
        Assert.True(second.Complete >= 8, $"only {second.Complete} requests completed before the kill");

        // The file is intact...
        SqliteConnection.ClearAllPools();
        await using (var conn = new SqliteConnection($"Data Source={tdb.Config.DatabasePath}"))
        {
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string?)await cmd.ExecuteScalarAsync());
        }
        // ...the counts lost are exactly the unflushed ones (none flushed yet), nothing was doubled or half-added...
        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(first.Complete, totals.RequestsOk);
        // ...request logs are whole rows: at most one per request sent.
        var logs = await CountLogsAsync(db);
        Assert.InRange(logs, first.Complete, first.Complete + second.Complete + second.Broken);

        // And the gateway starts on it again and counts on from there.
        var third = new Tally();
        using (var gw = await GatewayProcess.StartAsync(tdb.Config, workDir))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await RunLoadAsync(gw.BaseUrl, secret, third, stop.Token);
            await gw.TerminateCleanlyAsync();
        }
        Assert.Equal(first.Complete + third.Complete, (await new StatsStore(db).TotalsAsync(new StatsFilter(), default)).RequestsOk);
    }

    private static async Task<long> CountLogsAsync(Database db)
    {
        long n = 0;
        long? cursor = null;
        do
        {
            var page = await new RequestLogStore(db).QueryAsync(new RequestLogFilter { Limit = 500, Cursor = cursor }, default);
            n += page.Items.Count;
            cursor = page.NextCursor;
        } while (cursor is not null);
        return n;
    }
}
