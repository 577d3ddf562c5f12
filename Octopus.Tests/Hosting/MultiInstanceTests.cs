using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Hosting;

/// <summary>
/// Two real Octopus processes on one PostgreSQL or MariaDB database: configuration made through one instance's
/// admin API serves on the other within 2 s, and their stats add up to what the client sent.
/// </summary>
public sealed class MultiInstanceTests
{
    private const string AdminPassword = "two-instances-pass-123";
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    private sealed class Admin(GatewayProcess gw) : IDisposable
    {
        public readonly HttpClient Http = new() { BaseAddress = new Uri(gw.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

        public async Task LoginAsync()
        {
            var res = await Http.PostAsync("/api/v1/auth/login", Json($$"""{"username":"admin","password":"{{AdminPassword}}"}"""));
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            var token = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        public async Task<JsonElement> PostAsync(string path, string json)
        {
            var res = await Http.PostAsync("/api/v1" + path, Json(json));
            var text = await res.Content.ReadAsStringAsync();
            Assert.True(res.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{path}: {(int)res.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        public void Dispose() => Http.Dispose();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Polls the relay on <paramref name="baseUrl"/> until the group answers 200; returns how long it took.</summary>
    private static async Task<TimeSpan> TimeUntilServedAsync(string baseUrl, string secret, string group, TimeSpan limit)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var watch = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        while (watch.Elapsed < limit + TimeSpan.FromSeconds(3))
        {
            var res = await http.PostAsync("/v1/chat/completions", Chat(group));
            last = res.StatusCode;
            if (res.StatusCode == HttpStatusCode.OK) return watch.Elapsed;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"group {group} never served on {baseUrl} (last status {(int)last})");
    }

    private static async Task<(GatewayProcess A, GatewayProcess B)> StartTwoAsync(TestDatabase tdb)
    {
        var env = new Dictionary<string, string> { ["OCTOPUS_ADMIN_PASSWORD"] = AdminPassword };
        // Started together on an empty database: the migrations and the first-start bootstrap race.
        var a = GatewayProcess.StartAsync(tdb.Config, Directory.CreateTempSubdirectory("octopus-multi-a-").FullName, env);
        var b = GatewayProcess.StartAsync(tdb.Config, Directory.CreateTempSubdirectory("octopus-multi-b-").FullName, env);
        await Task.WhenAll(a, b);
        return (a.Result, b.Result);
    }

    /// <summary>Creates channel + group + client key through <paramref name="admin"/>; returns the client secret.</summary>
    private static async Task<string> ConfigureAsync(Admin admin, MockUpstream mock, string group)
    {
        var channel = await admin.PostAsync("/channels", $$"""{"name":"ch-{{group}}","type":"openai","base_urls":["{{mock.BaseUrl}}"],"keys":["sk-upstream-{{group}}"],"models":["m"]}""");
        await admin.PostAsync("/groups", $$"""{"name":"{{group}}","mode":"round_robin","members":[{"channel_id":{{channel.GetProperty("id").GetInt64()}},"model":"m"}]}""");
        var key = await admin.PostAsync("/api-keys", $$"""{"name":"key-{{group}}"}""");
        return key.GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task Two_processes_on_PostgreSQL_see_each_others_changes_within_2s_and_add_up()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Postgres);
        await using var mock = await MockUpstream.StartAsync("up");
        var (a, b) = await StartTwoAsync(tdb);
        using var _a = a;
        using var _b = b;
        using var adminA = new Admin(a);
        using var adminB = new Admin(b);
        await adminA.LoginAsync();
        await adminB.LoginAsync();

        // Made on A, served by B.
        var secret = await ConfigureAsync(adminA, mock, "g");
        Assert.True(await TimeUntilServedAsync(b.BaseUrl, secret, "g", Propagation) < Propagation);

        // Made on B, served by A.
        var secret2 = await ConfigureAsync(adminB, mock, "g2");
        Assert.True(await TimeUntilServedAsync(a.BaseUrl, secret2, "g2", Propagation) < Propagation);

        // The LISTEN connections are cut (as by a database restart): they come back and changes still arrive at once.
        await using (var conn = new NpgsqlConnection(tdb.Config.DatabaseUrl))
        {
            await conn.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'octopus-listen'", conn);
            Assert.Equal(2L, await kill.ExecuteScalarAsync());
            await Relay.RelayFailoverTests.WaitUntil(async () =>
            {
                await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'octopus-listen'", conn);
                return (long)(await count.ExecuteScalarAsync())! == 2;
            }, 15_000);
        }
        var secret3 = await ConfigureAsync(adminA, mock, "g3");
        Assert.True(await TimeUntilServedAsync(b.BaseUrl, secret3, "g3", Propagation) < Propagation);

        // Traffic on both; after both flush (SIGTERM), the totals are the client's count.
        var before = mock.Count;
        await Task.WhenAll(
            Stats.StatsDurabilityTests.SendAsync(a.BaseUrl, secret, 25, concurrency: 4),
            Stats.StatsDurabilityTests.SendAsync(b.BaseUrl, secret, 25, concurrency: 4));
        await a.TerminateCleanlyAsync();
        await b.TerminateCleanlyAsync();
        var db = tdb.Open();
        var totals = await new StatsStore(db).TotalsAsync(new StatsFilter(), default);
        // Every request the client sent, including the propagation probes that got a 200.
        Assert.Equal(mock.Count, totals.RequestsOk);
        Assert.Equal(50, mock.Count - before);
    }

    [Fact]
    public async Task Two_processes_on_MariaDB_see_each_others_changes_within_2s()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.MySql);
        await using var mock = await MockUpstream.StartAsync("up");
        var (a, b) = await StartTwoAsync(tdb);
        using var _a = a;
        using var _b = b;
        using var adminA = new Admin(a);
        using var adminB = new Admin(b);
        await adminA.LoginAsync();
        await adminB.LoginAsync();

        var secret = await ConfigureAsync(adminA, mock, "g");
        Assert.True(await TimeUntilServedAsync(b.BaseUrl, secret, "g", Propagation) < Propagation);
        var secret2 = await ConfigureAsync(adminB, mock, "g2");
        Assert.True(await TimeUntilServedAsync(a.BaseUrl, secret2, "g2", Propagation) < Propagation);

        // A settings change reaches the other instance too.
        var res = await adminA.Http.PutAsync("/api/v1/settings", Json("""{"log_retention_days":9}"""));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        await Relay.RelayFailoverTests.WaitUntil(async () =>
            JsonDocument.Parse(await adminB.Http.GetStringAsync("/api/v1/settings")).RootElement.GetProperty("log_retention_days").GetInt32() == 9, 2_000);

        await Task.WhenAll(
            Stats.StatsDurabilityTests.SendAsync(a.BaseUrl, secret, 10, concurrency: 4),
            Stats.StatsDurabilityTests.SendAsync(b.BaseUrl, secret2, 10, concurrency: 4));
        await a.TerminateCleanlyAsync();
        await b.TerminateCleanlyAsync();
        var totals = await new StatsStore(tdb.Open()).TotalsAsync(new StatsFilter(), default);
        Assert.Equal(mock.Count, totals.RequestsOk);
    }
}
