using System.Diagnostics;
using System.Net;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Stats;

/// <summary>Tests that stop the shared PostgreSQL server run alone, after everything else.</summary>
[CollectionDefinition("database outage", DisableParallelization = true)]
public sealed class DatabaseOutageCollection;

[Collection("database outage")]
public sealed class DatabaseOutageTests
{
    private static string PgVersion() =>
        Directory.GetDirectories("/etc/postgresql").Select(Path.GetFileName).OrderBy(v => double.Parse(v!, System.Globalization.CultureInfo.InvariantCulture)).Last()!;

    private static void PgCtl(string action)
    {
        using var p = Process.Start(new ProcessStartInfo("pg_ctlcluster", $"{PgVersion()} main {action}") { RedirectStandardError = true })!;
        Assert.True(p.WaitForExit(60_000), $"pg_ctlcluster {action} hung");
        Assert.True(p.ExitCode == 0, $"pg_ctlcluster {action} failed: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public async Task PostgreSQL_down_mid_run_the_relay_keeps_serving_and_every_request_is_counted_when_it_returns()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Postgres);
        await using var host = await StartAsync(c => { c.DatabaseType = "postgres"; c.DatabaseUrl = tdb.Config.DatabaseUrl; });
        await using var mock = await MockUpstream.StartAsync("up");
        var ch = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl]);
        await host.AddGroupAsync("g", GroupMode.RoundRobin, [Member(ch)]);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        var flusher = host.Get<StatsFlusher>();

        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g", $"before {i}"))).StatusCode);
        Assert.True(await flusher.FlushAsync(default));

        PgCtl("stop");
        try
        {
            // The relay serves from its in-memory snapshot while the database is gone.
            for (var i = 0; i < 20; i++)
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g", $"during {i}", stream: i % 2 == 0))).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Http.GetAsync("/readyz")).StatusCode);
            // A flush now fails and keeps the counts in memory.
            Assert.False(await flusher.FlushAsync(default));
            Assert.Equal(20, host.Get<StatsAggregator>().Pending().Sum(d => d.RequestsOk));
        }
        finally
        {
            PgCtl("start");
        }

        await RelayFailoverTests_WaitReady(host);
        Assert.True(await flusher.FlushAsync(default));
        var db = await tdb.OpenMigratedAsync();
        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(30, totals.RequestsOk);
        Assert.Equal(30 * Wire.OutputTokens, totals.OutputTokens);
        // Logs queued during the outage are written once the database is back.
        await Relay.RelayFailoverTests.WaitUntil(async () =>
            (await new RequestLogStore(db).QueryAsync(new RequestLogFilter { Limit = 100 }, default)).Items.Count == 30, 60_000);
    }

    private static async Task RelayFailoverTests_WaitReady(RelayHost host) =>
        await Relay.RelayFailoverTests.WaitUntil(async () => (await host.Http.GetAsync("/readyz")).IsSuccessStatusCode, 30_000);
}
