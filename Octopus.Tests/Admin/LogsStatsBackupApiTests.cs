using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteLogsStatsBackupApiTests : LogsStatsBackupApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresLogsStatsBackupApiTests : LogsStatsBackupApiTests
{
    internal override DbKind Kind => DbKind.Postgres;

    [Fact]
    public async Task Database_outage_during_an_admin_write_is_503_database_unavailable()
    {
        // Drop the server's database from under it (other tests share the PostgreSQL server, so it stays up).
        await using (var conn = new Npgsql.NpgsqlConnection(DatabaseUrl.ParsePostgres(TestDatabase.PgUrl).ConnectionString))
        {
            await conn.OpenAsync();
            var name = new Npgsql.NpgsqlConnectionStringBuilder(Server.Config.DatabaseUrl).Database;
            await using var cmd = new Npgsql.NpgsqlCommand($"DROP DATABASE {name} WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        Npgsql.NpgsqlConnection.ClearAllPools();
        var reply = await Admin.PostJsonAsync("/api/v1/channels", J("""{"name":"x","type":"openai","base_urls":["https://x.example"],"keys":["k"]}"""));
        AssertError(503, "database_unavailable", reply);
        Assert.DoesNotContain("octopus:octopus", reply.Body!.ToJsonString());
        Assert.Equal(503, (int)(await Server.Http.GetAsync("/readyz")).StatusCode);
    }
}

public abstract class LogsStatsBackupApiTests : AdminTestBase
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Logs_list_filters_pages_by_cursor_and_shows_detail_with_attempts_and_body()
    {
        const long t0 = 1_750_000_000_000;
        // Ids as the relay mints them, from the arrival time (time filters rely on it).
        static long Id(int i) => LogIds.Floor(t0 + i * 60_000);
        static long[] Ids(params int[] i) => [.. i.Select(Id)];
        var logs = Enumerable.Range(1, 7).Select(i => new RequestLog
        {
            Id = Id(i),
            Time = t0 + i * 60_000,
            ApiKeyId = i % 2 == 0 ? 2 : 1,
            GroupName = i <= 4 ? "gpt-4o" : "claude",
            ChannelId = 10,
            ChannelName = "c",
            Status = i == 3 ? 502 : 200,
            Error = i == 3 ? "upstream 502" : null,
            InputTokens = 100,
            ProtocolIn = "openai_chat",
            Attempts = [new RequestAttempt { ChannelId = 10, ChannelName = "c", BaseUrl = "https://u", Model = "m", KeyId = 5, Status = 502, Error = "bad gateway", DurationMs = 12 }],
        }).ToList();
        await Server.Get<RequestLogStore>().InsertAsync(logs, [new RequestBody { LogId = Id(3), Time = t0, Request = "{\"q\":1}", Response = "{\"e\":1}" }], Ct);

        var (status, page) = await Admin.GetJsonAsync("/api/v1/logs?limit=3");
        Assert.Equal(200, status);
        Assert.Equal(Ids(7, 6, 5), page!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        Assert.False(page["items"]![0]!.AsObject().ContainsKey("attempts"));
        var cursor = page["next_cursor"]!.GetValue<long>();
        page = (await Admin.GetJsonAsync($"/api/v1/logs?limit=3&cursor={cursor}")).Body;
        Assert.Equal(Ids(4, 3, 2), page!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        page = (await Admin.GetJsonAsync($"/api/v1/logs?limit=3&cursor={page["next_cursor"]}")).Body;
        Assert.Equal(Ids(1), page!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        Assert.Null(page["next_cursor"]);

        Assert.Equal(Ids(3), (await Admin.GetJsonAsync("/api/v1/logs?status=error")).Body!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        Assert.Equal(Ids(4, 2), (await Admin.GetJsonAsync("/api/v1/logs?group=gpt-4o&api_key_id=2")).Body!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        var from = Octopus.Admin.Times.Format(t0 + 2 * 60_000);
        Assert.Equal(Ids(3, 2), (await Admin.GetJsonAsync($"/api/v1/logs?from={from}&to={t0 + 4 * 60_000}")).Body!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/logs?channel_id=11")).Body!["items"]!.AsArray());
        AssertError(400, "validation_failed", await Admin.GetJsonAsync("/api/v1/logs?from=yesterday&limit=0&status=meh"), "from", "limit", "status");

        var (detailStatus, detail) = await Admin.GetJsonAsync($"/api/v1/logs/{Id(3)}");
        Assert.Equal(200, detailStatus);
        Assert.Equal(502, detail!["status"]!.GetValue<int>());
        Assert.Equal("bad gateway", detail["attempts"]![0]!["error"]!.GetValue<string>());
        Assert.Equal("{\"q\":1}", detail["body"]!["request"]!.GetValue<string>());
        var noBody = (await Admin.GetJsonAsync($"/api/v1/logs/{Id(4)}")).Body!;
        Assert.True(noBody.AsObject().ContainsKey("body"));
        Assert.Null(noBody["body"]);
        AssertError(404, "not_found", await Admin.GetJsonAsync("/api/v1/logs/999"));
    }

    private sealed class FakeUnflushed(IReadOnlyCollection<StatsDelta> pending) : IUnflushedStats
    {
        public IReadOnlyCollection<StatsDelta> Pending() => pending;
    }

    [Fact]
    public async Task Stats_total_adds_unflushed_counts_and_dashboard_queries_answer()
    {
        var hour = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 3600 * 3600;
        var pending = new[] { new StatsDelta { Hour = hour, ApiKeyId = 1, GroupName = "g", ChannelId = 99, Model = "m", RequestsOk = 5, InputTokens = 50, Cost = 0.5 } };
        await using var server = await TestServer.StartAsync(Kind, services: b => b.Services.AddSingleton<IUnflushedStats>(new FakeUnflushed(pending)));
        using var admin = await server.AdminClientAsync();
        var channel = (await admin.PostJsonAsync("/api/v1/channels", J("""{"name":"chan","type":"openai","base_urls":["https://x.example"],"keys":["k"]}"""))).Body!;
        var channelId = channel["id"]!.GetValue<long>();
        await server.Get<StatsStore>().AddAsync(
        [
            new StatsDelta { Hour = hour - 3600, ApiKeyId = 1, GroupName = "g", ChannelId = channelId, Model = "m", RequestsOk = 8, RequestsFailed = 2, InputTokens = 1000, OutputTokens = 300, CacheReadTokens = 400, Cost = 1.5 },
            new StatsDelta { Hour = hour - 10 * 86400, ApiKeyId = 2, GroupName = "h", ChannelId = channelId, Model = "n", RequestsOk = 1, InputTokens = 10, Cost = 0.25 },
        ], Ct);

        var (status, total) = await admin.GetJsonAsync("/api/v1/stats/total");
        Assert.Equal(200, status);
        Assert.Equal(16, total!["requests"]!.GetValue<long>());
        Assert.Equal(14, total["succeeded"]!.GetValue<long>());
        Assert.Equal(2, total["failed"]!.GetValue<long>());
        Assert.Equal(1060, total["input_tokens"]!.GetValue<long>());
        Assert.Equal(300, total["output_tokens"]!.GetValue<long>());
        Assert.Equal(2.25, total["cost"]!.GetValue<double>(), 9);
        Assert.Equal(6, total.AsObject().Count);

        var summary = (await admin.GetJsonAsync("/api/v1/stats/summary")).Body!; // last 24 h
        Assert.Equal(15, summary["requests"]!.GetValue<long>());
        Assert.Equal(13.0 / 15, summary["success_rate"]!.GetValue<double>(), 9);
        Assert.Equal(400.0 / 1050, summary["cache_hit_rate"]!.GetValue<double>(), 9);
        Assert.Equal(400, summary["cache_read_tokens"]!.GetValue<long>());

        var series = (await admin.GetJsonAsync($"/api/v1/stats/series?interval=hour&from={(hour - 3 * 3600) * 1000}&to={hour * 1000}")).Body!["points"]!.AsArray();
        Assert.Equal(4, series.Count);
        Assert.Equal([0L, 0, 10, 5], series.Select(p => p!["requests"]!.GetValue<long>()));
        Assert.Equal(Octopus.Admin.Times.Format((hour - 3600) * 1000), series[2]!["t"]!.GetValue<string>());
        var days = (await admin.GetJsonAsync("/api/v1/stats/series?interval=day")).Body!["points"]!.AsArray();
        Assert.InRange(days.Count, 30, 31);
        Assert.Equal(16, days.Sum(p => p!["requests"]!.GetValue<long>()));
        AssertError(400, "validation_failed", await admin.GetJsonAsync("/api/v1/stats/series?interval=week"), "interval");

        var top = (await admin.GetJsonAsync($"/api/v1/stats/top?by=channel&from={(hour - 20 * 86400) * 1000}")).Body!.AsArray();
        Assert.Equal(2, top.Count);
        Assert.Equal(channelId.ToString(System.Globalization.CultureInfo.InvariantCulture), top[0]!["key"]!.GetValue<string>());
        Assert.Equal("chan", top[0]!["name"]!.GetValue<string>());
        Assert.Equal(11, top[0]!["requests"]!.GetValue<long>());
        var byModel = (await admin.GetJsonAsync("/api/v1/stats/top?by=model&limit=1")).Body!.AsArray();
        Assert.Equal("m", Assert.Single(byModel)!["key"]!.GetValue<string>());
        AssertError(400, "validation_failed", await admin.GetJsonAsync("/api/v1/stats/top?by=colour"), "by");
    }

    [Fact]
    public async Task Backup_export_wipe_import_reproduces_the_same_configuration()
    {
        var c1 = await CreateChannelAsync("c1", keys: ["sk-one-0000000000001", "sk-two-0000000000002"]);
        var c1Id = c1["id"]!.GetValue<long>();
        var key2 = c1["keys"]![1]!["id"]!.GetValue<long>();
        await Admin.PostJsonAsync($"/api/v1/channels/{c1Id}/keys/{key2}/set-aside", J("""{"reason":"401"}"""));
        await Admin.PutJsonAsync($"/api/v1/channels/{c1Id}", J("""{"param_override":{"top_p":0.5},"headers":{"x-a":"b"}}"""));
        var c2 = await CreateChannelAsync("c2", type: "anthropic");
        await Admin.PostJsonAsync("/api/v1/groups", J($$"""
            {"name":"g","mode":"weighted","members":[{"channel_id":{{c1Id}},"model":"a","weight":5},{"channel_id":{{c2["id"]}},"model":"b","pinned":true}],"settings":{"cooldown_seconds":9},"aliases":["g*"]}
            """));
        var apiKey = (await Admin.PostJsonAsync("/api/v1/api-keys", J("""{"name":"k","budget":3,"allowed_groups":["g"]}"""))).Body!;
        await Admin.PutJsonAsync("/api/v1/prices/a", J("""{"input":1,"output":2}"""));
        await Admin.PutJsonAsync("/api/v1/settings", J("""{"log_retention_days":9,"body_capture":"all"}"""));

        using var exported = await Admin.GetAsync("/api/v1/backup?include_keys=true");
        Assert.Equal(200, (int)exported.StatusCode);
        Assert.Contains("attachment", exported.Content.Headers.ContentDisposition?.ToString() ?? exported.Headers.ToString());
        var backupText = await exported.Content.ReadAsStringAsync();
        Assert.Contains("sk-one-0000000000001", backupText);
        Assert.DoesNotContain("_auth_secret", backupText);

        var keyless = (await Admin.GetJsonAsync("/api/v1/backup")).Body!;
        Assert.DoesNotContain("sk-one-0000000000001", keyless.ToJsonString());
        Assert.False(keyless["includes_keys"]!.GetValue<bool>());

        // Wipe: import an empty configuration.
        var wiped = await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1}"""));
        Assert.Equal(200, wiped.Status);
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/channels")).Body!.AsArray());
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/api-keys")).Body!.AsArray());
        Assert.Equal(30, (await Admin.GetJsonAsync("/api/v1/settings")).Body!["log_retention_days"]!.GetValue<int>());

        var (status, counts) = await Admin.PostJsonAsync("/api/v1/backup", JsonNode.Parse(backupText));
        Assert.Equal(200, status);
        Assert.Equal(2, counts!["channels"]!.GetValue<int>());
        Assert.Equal(1, counts["groups"]!.GetValue<int>());
        Assert.Equal(1, counts["api_keys"]!.GetValue<int>());
        Assert.Equal(1, counts["prices"]!.GetValue<int>());
        Assert.Equal(2, counts["settings"]!.GetValue<int>());

        var again = (await Admin.GetJsonAsync("/api/v1/backup?include_keys=true")).Body!.AsObject();
        var original = JsonNode.Parse(backupText)!.AsObject();
        again.Remove("exported_at");
        original.Remove("exported_at");
        Assert.Equal(original.ToJsonString(), again.ToJsonString());

        // The restored client key still authenticates by hash; the restored admin token still works.
        Assert.Equal(apiKey["key_hint"]!.GetValue<string>(), (await Admin.GetJsonAsync($"/api/v1/api-keys/{apiKey["id"]}")).Body!["key_hint"]!.GetValue<string>());
        Assert.Equal("sk-two-0000000000002", (await Admin.GetJsonAsync($"/api/v1/channels/{c1Id}/keys/{key2}/reveal")).Body!["key"]!.GetValue<string>());

        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1,"settings":{"nope":"1"}}""")), "settings.nope");
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1,"surprise":true}""")));
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1,"groups":[{"id":1,"name":"g","mode":"random","members":[{"channel_id":77,"model":"x"}]}]}""")), "groups[0].members[0].channel_id");
    }
}
