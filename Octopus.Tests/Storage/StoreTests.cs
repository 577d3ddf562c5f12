using System.Data.Common;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Storage;

public sealed class SqliteStoreTests : StoreTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresStoreTests : StoreTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public sealed class MySqlStoreTests : StoreTests
{
    internal override DbKind Kind => DbKind.MySql;
}

/// <summary>The same storage cases on every database kind; each test gets a fresh database.</summary>
public abstract class StoreTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private TestDatabase _test = null!;
    private Database _db = null!;

    internal abstract DbKind Kind { get; }

    public async Task InitializeAsync()
    {
        _test = await TestDatabase.CreateAsync(Kind);
        _db = await _test.OpenMigratedAsync();
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private async Task<long> ScalarAsync(string sql)
    {
        await using var conn = await _db.OpenAsync(Ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private static Channel NewChannel(string name, params string[] secrets) => new()
    {
        Name = name,
        Type = ChannelType.Anthropic,
        BaseUrls = [new ChannelBaseUrl { Url = "https://api.example.com/v1" }, new ChannelBaseUrl { Url = "https://backup.example.com/v1" }],
        Keys = secrets.Select(s => new ChannelKey { Secret = s }).ToList(),
        Models = ["claude-sonnet-4-5", "claude-haiku-4-5"],
        Headers = new Dictionary<string, string> { ["x-extra"] = "1" },
        ModelFilter = "^claude",
        ParamOverride = """{"temperature":0.2}""",
        ProbePolicy = "active",
        AddCacheBreakpoints = true,
    };

    // ---------- migrations ----------

    [Fact]
    public async Task Migrations_run_twice_are_a_no_op()
    {
        var before = await Octopus.Storage.Migrations.Migrator.AppliedAsync(_db, Ct);
        await _db.MigrateAsync(Ct);
        await _test.Open().MigrateAsync(Ct);
        var after = await Octopus.Storage.Migrations.Migrator.AppliedAsync(_db, Ct);
        Assert.Equal(Octopus.Storage.Migrations.Schema.All.Select(m => (long)m.Version), after);
        Assert.Equal(before, after);
        Assert.Equal(after.Count, await ScalarAsync("SELECT COUNT(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task The_request_log_time_index_is_gone_and_bodies_keep_theirs()
    {
        // Migration 6: time filters on request_logs bound the primary key; request_bodies still filter on started_at.
        var count = (string name) => ScalarAsync(Kind switch
        {
            DbKind.Sqlite => $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'",
            DbKind.Postgres => $"SELECT COUNT(*) FROM pg_indexes WHERE indexname = '{name}'",
            _ => $"SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = '{name}'",
        });
        Assert.Equal(0, await count("ix_request_logs_started_at"));
        Assert.Equal(1, await count("ix_request_bodies_started_at"));
    }

    [Fact]
    public async Task Two_concurrent_migrations_on_an_empty_database_both_succeed()
    {
        await using var fresh = await TestDatabase.CreateAsync(Kind);
        var a = fresh.Open();
        var b = fresh.Open();
        await Task.WhenAll(Task.Run(() => a.MigrateAsync(Ct)), Task.Run(() => b.MigrateAsync(Ct)));
        var applied = await Octopus.Storage.Migrations.Migrator.AppliedAsync(a, Ct);
        Assert.Equal(Octopus.Storage.Migrations.Schema.All.Select(m => (long)m.Version), applied);
        var channels = new ChannelStore(b);
        var created = await channels.CreateAsync(NewChannel("after-race", "sk-1"), Ct);
        Assert.True(created.Id > 0);
    }

    [Fact]
    public async Task Check_reports_reachable_database_as_null()
    {
        Assert.Null(await _db.CheckAsync(Ct));
    }

    // ---------- channels ----------

    [Fact]
    public async Task Channel_create_get_list_update_delete_round_trip()
    {
        var store = new ChannelStore(_db);
        var created = await store.CreateAsync(NewChannel("main", "sk-aaa", "sk-bbb"), Ct);
        Assert.True(created.Id > 0);
        Assert.Equal(["https://api.example.com/v1", "https://backup.example.com/v1"], created.BaseUrls.Select(u => u.Url));
        Assert.Equal(["sk-aaa", "sk-bbb"], created.Keys.Select(k => k.Secret));
        Assert.All(created.Keys, k => { Assert.True(k.Id > 0); Assert.Equal(KeyStatus.Active, k.Status); Assert.True(k.Enabled); });
        Assert.Equal(ChannelType.Anthropic, created.Type);
        Assert.Equal(["claude-sonnet-4-5", "claude-haiku-4-5"], created.Models);
        Assert.Equal("1", created.Headers["x-extra"]);
        Assert.Equal("^claude", created.ModelFilter);
        Assert.Equal("""{"temperature":0.2}""", created.ParamOverride);
        Assert.Equal("active", created.ProbePolicy);
        Assert.True(created.AddCacheBreakpoints);
        Assert.True(created.Enabled);
        Assert.False(created.AutoSync);
        Assert.True(created.CreatedAt > 0);

        var second = await store.CreateAsync(NewChannel("second", "sk-ccc") with { Type = ChannelType.Gemini, Enabled = false }, Ct);
        var list = await store.ListAsync(Ct);
        Assert.Equal(["main", "second"], list.Select(c => c.Name));
        Assert.False(list[1].Enabled);
        Assert.Equal(ChannelType.Gemini, list[1].Type);

        var got = await store.GetAsync(created.Id, Ct);
        Assert.NotNull(got);
        Assert.Equal(created.Keys.Select(k => k.Id), got.Keys.Select(k => k.Id));

        var updated = await store.UpdateAsync(got with
        {
            Name = "main-renamed",
            BaseUrls = [new ChannelBaseUrl { Url = "https://new.example.com" }],
            Models = ["m1"],
            Headers = new Dictionary<string, string>(),
            ModelFilter = null,
        }, Ct);
        Assert.NotNull(updated);
        Assert.Equal("main-renamed", updated.Name);
        Assert.Equal(["https://new.example.com"], updated.BaseUrls.Select(u => u.Url));
        Assert.Equal(["m1"], updated.Models);
        Assert.Empty(updated.Headers);
        Assert.Null(updated.ModelFilter);

        Assert.Null(await store.UpdateAsync(got with { Id = 999_999 }, Ct));
        Assert.True(await store.DeleteAsync(second.Id, Ct));
        Assert.False(await store.DeleteAsync(second.Id, Ct));
        Assert.Null(await store.GetAsync(second.Id, Ct));
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact]
    public async Task Channel_duplicate_name_throws_DuplicateNameException_naming_the_field()
    {
        var store = new ChannelStore(_db);
        await store.CreateAsync(NewChannel("dup", "sk-1"), Ct);
        var e = await Assert.ThrowsAsync<DuplicateNameException>(() => store.CreateAsync(NewChannel("dup", "sk-2"), Ct));
        Assert.Equal("name", e.Field);
        Assert.Equal("channel", e.Entity);
        Assert.Contains("name", e.Message);

        var other = await store.CreateAsync(NewChannel("other", "sk-3"), Ct);
        await Assert.ThrowsAsync<DuplicateNameException>(() => store.UpdateAsync(other with { Name = "dup" }, Ct));
        // Names differing only in case are different names on every database.
        Assert.Equal("DUP", (await store.CreateAsync(NewChannel("DUP", "sk-4"), Ct)).Name);
    }

    [Fact]
    public async Task Channel_update_keeps_status_of_keys_that_keep_their_id()
    {
        var store = new ChannelStore(_db);
        var c = await store.CreateAsync(NewChannel("keys", "sk-keep", "sk-drop"), Ct);
        var keep = c.Keys[0];
        var drop = c.Keys[1];
        Assert.True(await store.UpdateKeyStatusAsync(keep.Id, KeyStatus.SetAside, "401 from upstream", 1_700_000_000_000, Ct));

        var updated = await store.UpdateAsync(c with
        {
            Keys =
            [
                new ChannelKey { Id = 0, Secret = "sk-new" },
                new ChannelKey { Id = keep.Id, Secret = "", Remark = "primary", Enabled = false },
            ],
        }, Ct);

        Assert.NotNull(updated);
        Assert.Equal(2, updated.Keys.Count);
        Assert.Equal("sk-new", updated.Keys[0].Secret);
        Assert.Equal(KeyStatus.Active, updated.Keys[0].Status);
        var kept = updated.Keys[1];
        Assert.Equal(keep.Id, kept.Id);
        Assert.Equal("sk-keep", kept.Secret); // empty secret = keep the stored one
        Assert.Equal(KeyStatus.SetAside, kept.Status);
        Assert.Equal("401 from upstream", kept.StatusReason);
        Assert.Equal(1_700_000_000_000, kept.StatusAt);
        Assert.Equal("primary", kept.Remark);
        Assert.False(kept.Enabled);
        Assert.DoesNotContain(updated.Keys, k => k.Id == drop.Id);

        Assert.True(await store.UpdateKeyStatusAsync(keep.Id, KeyStatus.Active, null, 1_700_000_000_001, Ct));
        var after = await store.GetAsync(c.Id, Ct);
        Assert.Equal(KeyStatus.Active, after!.Keys[1].Status);
        Assert.Null(after.Keys[1].StatusReason);
        Assert.False(await store.UpdateKeyStatusAsync(987_654, KeyStatus.Active, null, 1, Ct));
    }

    [Fact]
    public async Task Channel_synced_models_are_stored()
    {
        var store = new ChannelStore(_db);
        var c = await store.CreateAsync(NewChannel("sync", "sk-1"), Ct);
        Assert.True(await store.UpdateSyncedModelsAsync(c.Id, ["a", "b"], Ct));
        Assert.Equal(["a", "b"], (await store.GetAsync(c.Id, Ct))!.SyncedModels);
        Assert.False(await store.UpdateSyncedModelsAsync(424242, ["x"], Ct));
    }

    // ---------- groups ----------

    [Fact]
    public async Task Group_crud_keeps_member_ids_and_deleting_a_channel_removes_its_members()
    {
        var channels = new ChannelStore(_db);
        var groups = new GroupStore(_db);
        var c1 = await channels.CreateAsync(NewChannel("c1", "sk-1"), Ct);
        var c2 = await channels.CreateAsync(NewChannel("c2", "sk-2"), Ct);

        var g = await groups.CreateAsync(new Group
        {
            Name = "gpt-4o",
            Mode = GroupMode.Failover,
            Members =
            [
                new GroupMember { ChannelId = c1.Id, Model = "gpt-4o", Priority = 0, Weight = 3 },
                new GroupMember { ChannelId = c2.Id, Model = "gpt-4o-2024", Priority = 1, Weight = 1, Pinned = true },
            ],
            Settings = new GroupSettings { AttemptsPerMember = 2, CooldownSeconds = 10 },
            Aliases = ["gpt-4o*", "re:^4o$"],
            Visible = false,
        }, Ct);
        Assert.True(g.Id > 0);
        Assert.Equal(GroupMode.Failover, g.Mode);
        Assert.Equal([c1.Id, c2.Id], g.Members.Select(m => m.ChannelId));
        Assert.Equal(3, g.Members[0].Weight);
        Assert.True(g.Members[1].Pinned);
        Assert.Equal(2, g.Settings.AttemptsPerMember);
        Assert.Equal(10, g.Settings.CooldownSeconds);
        Assert.Null(g.Settings.AffinitySeconds);
        Assert.Equal(["gpt-4o*", "re:^4o$"], g.Aliases);
        Assert.False(g.Visible);

        // Reverse the order, keep ids, add one.
        var updated = await groups.UpdateAsync(g with
        {
            Mode = GroupMode.Weighted,
            Members =
            [
                g.Members[1] with { Priority = 0 },
                g.Members[0] with { Priority = 1 },
                new GroupMember { ChannelId = c1.Id, Model = "gpt-4o-mini", Priority = 2 },
            ],
        }, Ct);
        Assert.NotNull(updated);
        Assert.Equal([g.Members[1].Id, g.Members[0].Id], updated.Members.Take(2).Select(m => m.Id));
        Assert.Equal([0, 1, 2], updated.Members.Select(m => m.Priority));
        Assert.Equal(GroupMode.Weighted, updated.Mode);

        Assert.True(await channels.DeleteAsync(c1.Id, Ct));
        var after = await groups.GetAsync(g.Id, Ct);
        Assert.Equal([c2.Id], after!.Members.Select(m => m.ChannelId));

        await Assert.ThrowsAsync<DuplicateNameException>(() => groups.CreateAsync(new Group { Name = "gpt-4o" }, Ct));
        Assert.Null(await groups.UpdateAsync(g with { Id = 777_777 }, Ct));
        Assert.True(await groups.DeleteAsync(g.Id, Ct));
        Assert.False(await groups.DeleteAsync(g.Id, Ct));
        Assert.Empty(await groups.ListAsync(Ct));
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM group_members"));
    }

    // ---------- api keys ----------

    [Fact]
    public async Task Api_key_crud_lookup_by_hash_and_duplicates()
    {
        var store = new ApiKeyStore(_db);
        var k = await store.CreateAsync(new ApiKey
        {
            Name = "team-a",
            KeyHash = new string('a', 64),
            KeyHint = "sk-oc-ab…yz",
            ExpiresAt = 1_800_000_000_000,
            AllowedGroups = ["gpt-4o"],
            Budget = 12.5,
            BudgetPeriod = "monthly",
            RequestsPerMinute = 60,
            MaxConcurrency = 4,
        }, Ct);
        Assert.True(k.Id > 0);
        Assert.Equal(12.5, k.Budget);
        Assert.Equal(60, k.RequestsPerMinute);
        Assert.Null(k.TokensPerMinute);
        Assert.Equal(["gpt-4o"], k.AllowedGroups);

        var byHash = await store.GetByHashAsync(new string('a', 64), Ct);
        Assert.Equal(k.Id, byHash!.Id);
        Assert.Null(await store.GetByHashAsync(new string('b', 64), Ct));

        var dupName = await Assert.ThrowsAsync<DuplicateNameException>(() => store.CreateAsync(k with { KeyHash = new string('c', 64) }, Ct));
        Assert.Equal("name", dupName.Field);
        var dupHash = await Assert.ThrowsAsync<DuplicateNameException>(() => store.CreateAsync(k with { Name = "team-b" }, Ct));
        Assert.Equal("key", dupHash.Field);

        var updated = await store.UpdateAsync(k with { Name = "team-a2", Enabled = false, Budget = null, AllowedGroups = [] }, Ct);
        Assert.Equal("team-a2", updated!.Name);
        Assert.False(updated.Enabled);
        Assert.Null(updated.Budget);
        Assert.Equal(k.KeyHash, updated.KeyHash);
        Assert.Single(await store.ListAsync(Ct));
        Assert.Equal("team-a2", (await store.GetAsync(k.Id, Ct))!.Name);
        Assert.True(await store.DeleteAsync(k.Id, Ct));
        Assert.False(await store.DeleteAsync(k.Id, Ct));
        Assert.Null(await store.UpdateAsync(k, Ct));
    }

    // ---------- admin users ----------

    [Fact]
    public async Task Admin_password_update_bumps_token_version()
    {
        var store = new AdminUserStore(_db);
        Assert.Equal(0, await store.CountAsync(Ct));
        var u = await store.CreateAsync(new AdminUser { Username = "admin", PasswordHash = "h1", MustChangePassword = true }, Ct);
        Assert.Equal(1, await store.CountAsync(Ct));
        Assert.True(u.MustChangePassword);
        Assert.Equal(0, u.TokenVersion);
        Assert.Equal(u.Id, (await store.GetByUsernameAsync("admin", Ct))!.Id);
        Assert.Null(await store.GetByUsernameAsync("Admin", Ct));

        var changed = await store.UpdatePasswordAsync(u.Id, "h2", false, Ct);
        Assert.Equal("h2", changed!.PasswordHash);
        Assert.False(changed.MustChangePassword);
        Assert.Equal(1, changed.TokenVersion);
        Assert.Equal(1, (await store.GetAsync(u.Id, Ct))!.TokenVersion);
        Assert.Null(await store.UpdatePasswordAsync(12345, "x", false, Ct));

        var dup = await Assert.ThrowsAsync<DuplicateNameException>(() => store.CreateAsync(new AdminUser { Username = "admin", PasswordHash = "x" }, Ct));
        Assert.Equal("username", dup.Field);
    }

    // ---------- settings ----------

    [Fact]
    public async Task Settings_upsert_and_read_back()
    {
        var store = new SettingStore(_db);
        Assert.Empty(await store.GetAllAsync(Ct));
        await store.SetAsync(new Dictionary<string, string> { ["log_retention_days"] = "30", ["proxy"] = "" }, Ct);
        await store.SetAsync(new Dictionary<string, string> { ["log_retention_days"] = "7", ["body_capture"] = "errors" }, Ct);
        var all = await store.GetAllAsync(Ct);
        Assert.Equal("7", all["log_retention_days"]);
        Assert.Equal("", all["proxy"]);
        Assert.Equal("errors", all["body_capture"]);
        Assert.Equal(3, all.Count);
    }

    // ---------- prices ----------

    [Fact]
    public async Task Prices_keep_synced_and_user_rows_apart()
    {
        var store = new PriceStore(_db);
        Assert.Equal(2, await store.UpsertSyncedAsync(
        [
            new Price { Model = "gpt-4o", Input = 2.5, Output = 10, CacheRead = 1.25 },
            new Price { Model = "claude-sonnet-4-5", Input = 3, Output = 15, CacheRead = 0.3, CacheWrite = 3.75 },
        ], Ct));
        await store.UpsertSyncedAsync([new Price { Model = "gpt-4o", Input = 2, Output = 8, CacheRead = 1 }], Ct);
        await store.SetUserAsync(new Price { Model = "gpt-4o", Input = 1, Output = 4 }, Ct);

        var all = await store.ListAsync(Ct);
        Assert.Equal(3, all.Count);
        var synced = all.Single(p => p.Model == "gpt-4o" && p.Source == PriceSource.Synced);
        var user = all.Single(p => p.Model == "gpt-4o" && p.Source == PriceSource.User);
        Assert.Equal(2, synced.Input);
        Assert.Equal(8, synced.Output);
        Assert.Equal(1, user.Input);
        Assert.Equal(4, user.Output);
        Assert.True(user.UpdatedAt > 0);

        // A sync never touches the override.
        await store.UpsertSyncedAsync([new Price { Model = "gpt-4o", Input = 9, Output = 9 }], Ct);
        Assert.Equal(1, (await store.ListAsync(Ct)).Single(p => p.Source == PriceSource.User).Input);

        Assert.True(await store.DeleteUserAsync("gpt-4o", Ct));
        Assert.False(await store.DeleteUserAsync("gpt-4o", Ct));
        Assert.DoesNotContain(await store.ListAsync(Ct), p => p.Source == PriceSource.User);
        Assert.Equal(9, (await store.ListAsync(Ct)).Single(p => p.Model == "gpt-4o").Input);
    }

    // ---------- stats ----------

    private static StatsDelta Delta(long hour, long key, string group, long channel, string model, long ok, long failed, long input, double cost) => new()
    {
        Hour = hour,
        ApiKeyId = key,
        GroupName = group,
        ChannelId = channel,
        Model = model,
        RequestsOk = ok,
        RequestsFailed = failed,
        InputTokens = input,
        OutputTokens = input / 2,
        CacheReadTokens = input / 4,
        CacheWriteTokens = 1,
        ReasoningTokens = 2,
        Cost = cost,
        LatencyMsTotal = 100 * (ok + failed),
        TtftMsTotal = 10 * ok,
    };

    [Fact]
    public async Task Stats_upsert_is_additive_and_queries_sum_by_range_and_dimension()
    {
        var store = new StatsStore(_db);
        const long h0 = 1_700_000_000 / 3600 * 3600; // an hour start
        const long day = 86400;
        var batch = new[]
        {
            Delta(h0, 1, "g1", 10, "m1", 2, 1, 100, 0.5),
            Delta(h0, 2, "g1", 11, "m2", 1, 0, 40, 0.25),
            Delta(h0 + 3600, 1, "g2", 10, "m1", 3, 0, 60, 1.0),
            Delta(h0 + day, 1, "g1", 10, "m1", 1, 1, 10, 0.125),
        };
        await store.AddAsync(batch, Ct);
        await store.AddAsync(batch, Ct); // twice → every counter doubles

        Assert.Equal(4, await ScalarAsync("SELECT COUNT(*) FROM stats_hourly"));
        var all = await store.TotalsAsync(new StatsFilter(), Ct);
        Assert.Equal(2 * (2 + 1 + 3 + 1), all.RequestsOk);
        Assert.Equal(2 * (1 + 1), all.RequestsFailed);
        Assert.Equal(all.RequestsOk + all.RequestsFailed, all.Requests);
        Assert.Equal(2 * 210, all.InputTokens);
        Assert.Equal(2 * (50 + 20 + 30 + 5), all.OutputTokens);
        Assert.Equal(2 * 4, all.CacheWriteTokens);
        Assert.Equal(2 * 8, all.ReasoningTokens);
        Assert.Equal(2 * 1.875, all.Cost, 9);
        Assert.Equal(2 * 100 * 9, all.LatencyMsTotal);

        var firstDay = await store.TotalsAsync(new StatsFilter { FromHour = h0, ToHour = h0 + day }, Ct);
        Assert.Equal(2 * 6, firstDay.RequestsOk);
        var key1Channel10 = await store.TotalsAsync(new StatsFilter { ApiKeyId = 1, ChannelId = 10, GroupName = "g1" }, Ct);
        Assert.Equal(2 * 3, key1Channel10.RequestsOk);
        Assert.Equal(0, (await store.TotalsAsync(new StatsFilter { GroupName = "none" }, Ct)).Requests);

        var hourly = await store.SeriesAsync(new StatsFilter(), StatsInterval.Hour, Ct);
        Assert.Equal([h0, h0 + 3600, h0 + day], hourly.Select(p => p.Time));
        Assert.Equal(2 * 4, hourly[0].Totals.Requests);
        var daily = await store.SeriesAsync(new StatsFilter(), StatsInterval.Day, Ct);
        Assert.Equal(2, daily.Count);
        Assert.Equal(0, daily[0].Time % day);
        Assert.Equal(2 * 7, daily[0].Totals.Requests);

        var byChannel = await store.TopAsync(StatsDimension.Channel, new StatsFilter(), 10, Ct);
        Assert.Equal(["10", "11"], byChannel.Select(r => r.Key));
        Assert.Equal(2 * 8, byChannel[0].Totals.Requests);
        var byModel = await store.TopAsync(StatsDimension.Model, new StatsFilter(), 1, Ct);
        Assert.Equal("m1", Assert.Single(byModel).Key);
        var byGroup = await store.TopAsync(StatsDimension.Group, new StatsFilter { FromHour = h0 + 3600 }, 10, Ct);
        Assert.Equal(["g2", "g1"], byGroup.Select(r => r.Key));
        var byKey = await store.TopAsync(StatsDimension.ApiKey, new StatsFilter(), 10, Ct);
        Assert.Equal(["1", "2"], byKey.Select(r => r.Key));

        // In-memory deltas sum with the same filter semantics.
        Assert.Equal(6, StatsTotals.Sum(batch, new StatsFilter { FromHour = h0, ToHour = h0 + day }).RequestsOk);
    }

    // ---------- request logs ----------

    private static RequestLog Log(long id, long time, int status, string group = "g", long channel = 1, long key = 5) => new()
    {
        Id = id,
        Time = time,
        ApiKeyId = key,
        ApiKeyName = "k",
        ClientIp = "127.0.0.1",
        RequestedModel = "gpt",
        GroupName = group,
        ChannelId = channel,
        ChannelName = "c",
        UpstreamModel = "gpt-up",
        Status = status,
        Error = status >= 400 ? "upstream said no" : null,
        LatencyMs = 120,
        TtftMs = 40,
        InputTokens = 10,
        OutputTokens = 20,
        Cost = 0.001,
        Stream = true,
        ProtocolIn = "openai_chat",
        ProtocolOut = "anthropic",
        Attempts =
        [
            new RequestAttempt { ChannelId = channel, ChannelName = "c", BaseUrl = "https://x", Model = "gpt-up", KeyId = 3, Status = 500, Error = "boom", DurationMs = 10 },
            new RequestAttempt { ChannelId = channel, ChannelName = "c", BaseUrl = "https://y", Model = "gpt-up", KeyId = 4, Status = status, DurationMs = 20 },
        ],
    };

    [Fact]
    public async Task Request_log_rows_round_trip_every_field_null_unicode_and_long_text()
    {
        // SQLite writes logs through its own binder (SqliteLogInsert): every column, nulls and non-ASCII must read back.
        var store = new RequestLogStore(_db);
        var full = Log(101, 1_700_000_000_000, 502) with
        {
            ApiKeyName = "clé 密钥", ChannelName = "通道 ü", Error = "upstream 500: " + new string('é', 400) + " 🐙",
            CacheReadTokens = 7, CacheWriteTokens = 8, ReasoningTokens = 9, Cost = 1.25e-7, Stream = false,
        };
        var sparse = new RequestLog { Id = 102, Time = 1_700_000_000_500, Status = 401, LatencyMs = 1, ProtocolIn = "anthropic", Error = "no key" };
        await store.InsertAsync([full, sparse], [], Ct);

        var back = (await store.GetAsync(101, Ct))!.Log;
        Assert.Equal(full with { Attempts = [] }, back with { Attempts = [] });
        Assert.Equal(full.Attempts, back.Attempts);
        var none = (await store.GetAsync(102, Ct))!.Log;
        Assert.Equal(sparse, none with { Attempts = [] });
        Assert.Empty(none.Attempts);
        Assert.Null(none.ApiKeyId);
        Assert.Null(none.ChannelId);
        Assert.Null(none.TtftMs);
        Assert.Null(none.ClientIp);

        // A failed batch (duplicate id) writes nothing and says why.
        await Assert.ThrowsAnyAsync<Exception>(() => store.InsertAsync([Log(103, 1_700_000_001_000, 200), Log(101, 1_700_000_001_000, 200)], [], Ct));
        Assert.Null(await store.GetAsync(103, Ct));
    }

    [Fact]
    public async Task Request_log_batches_of_every_size_keep_each_row_its_own_values()
    {
        // SQLite writes eight rows per statement with their text read in place from shared buffers, the rest one by
        // one: each row must keep its own values whatever the batch size, also when a statement's text outgrows a buffer.
        var store = new RequestLogStore(_db);
        long id = 1000;
        foreach (var size in new[] { 1, 7, 8, 9, 19, 64 })
        {
            var batch = Enumerable.Range(0, size).Select(i =>
            {
                var n = ++id;
                return Log(n, 1_700_000_000_000 + n, i % 3 == 0 ? 502 : 200, group: "g" + n, channel: n) with
                {
                    ApiKeyName = i % 4 == 0 ? null : "key " + n + " é",
                    ClientIp = "10.0.0." + n % 250,
                    Error = i % 5 == 0 ? n + " " + new string('密', 1500 + i) : null,
                    TtftMs = i % 2 == 0 ? null : n,
                    InputTokens = n * 3,
                    Cost = n / 1e6,
                    Stream = i % 2 == 0,
                    ProtocolOut = i % 6 == 0 ? null : "p" + n,
                };
            }).ToList();
            await store.InsertAsync(batch, [], Ct);
            foreach (var want in batch)
            {
                var got = (await store.GetAsync(want.Id, Ct))!.Log;
                Assert.Equal(want with { Attempts = [] }, got with { Attempts = [] });
                Assert.Equal(want.Attempts, got.Attempts);
            }
        }
    }

    [Fact]
    public async Task A_first_attempt_success_is_stored_compact_and_reads_back_whole()
    {
        // Most logs have one attempt that repeats the row's channel, model and status: it is stored as
        // "~KEY_ID DURATION_MS BASE_URL"; any other attempts keep the JSON list.
        var store = new RequestLogStore(_db);
        const long t0 = 1_750_000_000_000;
        RequestAttempt Attempt(long channel, string model, int status, string? error = null) => new()
        {
            ChannelId = channel, ChannelName = "c", BaseUrl = "https://api.example.com/v1 ü", Model = model, KeyId = 42, Status = status, Error = error, DurationMs = 1234,
        };
        var single = Log(LogIds.Floor(t0) + 1, t0, 200) with { Attempts = [Attempt(1, "gpt-up", 200)] };
        var otherModel = Log(LogIds.Floor(t0) + 2, t0, 200) with { Attempts = [Attempt(1, "gpt-other", 200)] };
        var failed = Log(LogIds.Floor(t0) + 3, t0, 502) with { Attempts = [Attempt(1, "gpt-up", 502, "upstream 502")] };
        var none = Log(LogIds.Floor(t0) + 4, t0, 401) with { ChannelId = null, ChannelName = null, UpstreamModel = null, Attempts = [] };
        var batch = new[] { single, otherModel, failed, none }.Concat(Enumerable.Range(5, 12).Select(i => single with { Id = LogIds.Floor(t0) + i })).ToList();
        await store.InsertAsync(batch, [], Ct); // eight a statement on SQLite, then one by one

        foreach (var want in batch)
        {
            var got = (await store.GetAsync(want.Id, Ct))!.Log;
            Assert.Equal(want.Attempts, got.Attempts);
        }
        Assert.Equal(13, await ScalarAsync("SELECT COUNT(*) FROM request_logs WHERE attempts = '~42 1234 https://api.example.com/v1 ü'"));
        Assert.Equal(3, await ScalarAsync("SELECT COUNT(*) FROM request_logs WHERE attempts LIKE '[%'"));
    }

    [Fact]
    public async Task Request_logs_insert_query_with_cursor_detail_and_cleanup()
    {
        var store = new RequestLogStore(_db);
        const long t0 = 1_750_000_000_000;
        // Ids as the relay mints them: from the arrival time (LogIds), which time filters and retention rely on.
        static long Id(int i) => LogIds.Floor(t0 + i * 1000);
        static long[] Ids(params int[] i) => [.. i.Select(Id)];
        var logs = Enumerable.Range(1, 25).Select(i => Log(Id(i), t0 + i * 1000, i % 5 == 0 ? 502 : 200, group: i % 2 == 0 ? "even" : "odd", channel: i <= 10 ? 1 : 2)).ToList();
        var bodies = Enumerable.Range(1, 25).Where(i => i % 3 == 0)
            .Select(i => new RequestBody { LogId = Id(i), Time = t0 + i * 1000, Request = "{\"n\":" + i + "}", Response = new string('r', 100) }).ToList();
        await store.InsertAsync(logs.Take(10).ToList(), bodies.Where(b => b.LogId <= Id(10)).ToList(), Ct);
        await store.InsertAsync(logs.Skip(10).ToList(), bodies.Where(b => b.LogId > Id(10)).ToList(), Ct);

        // Newest first, cursor pages through everything exactly once.
        var seen = new List<long>();
        long? cursor = null;
        for (var page = 0; page < 10; page++)
        {
            var p = await store.QueryAsync(new RequestLogFilter { Cursor = cursor, Limit = 10 }, Ct);
            seen.AddRange(p.Items.Select(l => l.Id));
            cursor = p.NextCursor;
            if (cursor is null) break;
        }
        Assert.Equal(Enumerable.Range(1, 25).Reverse().Select(Id), seen);

        var errors = await store.QueryAsync(new RequestLogFilter { Status = "error" }, Ct);
        Assert.Equal(Ids(25, 20, 15, 10, 5), errors.Items.Select(l => l.Id));
        Assert.Null(errors.NextCursor);
        Assert.Equal(20, (await store.QueryAsync(new RequestLogFilter { Status = "ok", Limit = 100 }, Ct)).Items.Count);
        Assert.Equal(5, (await store.QueryAsync(new RequestLogFilter { Status = "502" }, Ct)).Items.Count);
        var even2 = await store.QueryAsync(new RequestLogFilter { Group = "even", ChannelId = 2, ApiKeyId = 5 }, Ct);
        Assert.Equal(Ids(24, 22, 20, 18, 16, 14, 12), even2.Items.Select(l => l.Id));
        var window = await store.QueryAsync(new RequestLogFilter { From = t0 + 5000, To = t0 + 8000 }, Ct);
        Assert.Equal(Ids(7, 6, 5), window.Items.Select(l => l.Id));
        Assert.Empty((await store.QueryAsync(new RequestLogFilter { ApiKeyId = 6 }, Ct)).Items);
        await Assert.ThrowsAsync<ArgumentException>(() => store.QueryAsync(new RequestLogFilter { Status = "bad" }, Ct));

        var detail = await store.GetAsync(Id(15), Ct);
        Assert.NotNull(detail);
        Assert.Equal(502, detail.Log.Status);
        Assert.Equal("upstream said no", detail.Log.Error);
        Assert.True(detail.Log.Stream);
        Assert.Equal("anthropic", detail.Log.ProtocolOut);
        Assert.Equal(40, detail.Log.TtftMs);
        Assert.Equal(0.001, detail.Log.Cost, 9);
        Assert.Equal(2, detail.Log.Attempts.Count);
        Assert.Equal("boom", detail.Log.Attempts[0].Error);
        Assert.Equal(4, detail.Log.Attempts[1].KeyId);
        Assert.Equal("{\"n\":15}", detail.Body!.Request);
        Assert.Null((await store.GetAsync(Id(16), Ct))!.Body);
        Assert.Null(await store.GetAsync(999, Ct));

        // Logs 1..9 are older than t0+10s; bodies older than t0+20s are 3,6,...,18.
        var preview = await store.PreviewCleanupAsync(t0 + 10_000, t0 + 20_000, Ct);
        Assert.Equal(9, preview.Logs);
        Assert.Equal(6, preview.Bodies);
        Assert.True(preview.Bytes > 6 * 100);

        Assert.Equal(6, await store.DeleteBodiesBeforeAsync(t0 + 20_000, 4, Ct));
        Assert.Equal(0, await store.DeleteBodiesBeforeAsync(t0 + 20_000, 4, Ct));
        Assert.Equal(9, await store.DeleteLogsBeforeAsync(t0 + 10_000, 2, Ct));
        Assert.Equal(16, (await store.QueryAsync(new RequestLogFilter { Limit = 100 }, Ct)).Items.Count);
        Assert.Equal(2, await ScalarAsync("SELECT COUNT(*) FROM request_bodies")); // 21 and 24
        await store.ReclaimSpaceAsync(Ct);
        Assert.Equal(0, (await store.PreviewCleanupAsync(t0 + 10_000, t0 + 10_000, Ct)).Logs);
    }

    [Fact]
    public async Task Request_log_time_bounds_find_rows_whose_id_lies_after_their_start()
    {
        // Before migration 6 ids were minted when a request ended: a 20-minute stream's id lies 20 minutes past its
        // started_at. Upper time bounds and retention still find such rows; lower bounds are exact.
        var store = new RequestLogStore(_db);
        const long t0 = 1_750_000_000_000;
        var early = Log(LogIds.Floor(t0 + 20 * 60_000), t0, 200);
        var onTime = Log(LogIds.Floor(t0 + 5_000) + 1, t0 + 5_000, 200);
        var late = Log(LogIds.Floor(t0 + 10_000) + 2, t0 + 10_000, 200);
        await store.InsertAsync([early, onTime, late], [], Ct);

        Assert.Equal([early.Id, onTime.Id], (await store.QueryAsync(new RequestLogFilter { To = t0 + 10_000 }, Ct)).Items.Select(l => l.Id));
        Assert.Equal([late.Id, onTime.Id], (await store.QueryAsync(new RequestLogFilter { From = t0 + 1 }, Ct)).Items.Select(l => l.Id));
        Assert.Equal([early.Id], (await store.QueryAsync(new RequestLogFilter { From = t0, To = t0 + 1 }, Ct)).Items.Select(l => l.Id));
        Assert.Equal(2, (await store.PreviewCleanupAsync(t0 + 10_000, 0, Ct)).Logs);
        Assert.Equal(2, await store.DeleteLogsBeforeAsync(t0 + 10_000, 1, Ct));
        Assert.Equal([late.Id], (await store.QueryAsync(new RequestLogFilter(), Ct)).Items.Select(l => l.Id));
    }

    // ---------- backup ----------

    [Fact]
    public async Task Backup_replace_restores_configuration_with_the_same_ids()
    {
        var channels = new ChannelStore(_db);
        var groups = new GroupStore(_db);
        var keys = new ApiKeyStore(_db);
        var prices = new PriceStore(_db);
        var settings = new SettingStore(_db);
        var c1 = await channels.CreateAsync(NewChannel("c1", "sk-1", "sk-2"), Ct);
        await channels.UpdateKeyStatusAsync(c1.Keys[1].Id, KeyStatus.SetAside, "quota", 5, Ct);
        c1 = (await channels.GetAsync(c1.Id, Ct))!;
        var g = await groups.CreateAsync(new Group { Name = "g", Members = [new GroupMember { ChannelId = c1.Id, Model = "m" }] }, Ct);
        var k = await keys.CreateAsync(new ApiKey { Name = "k", KeyHash = new string('d', 64), KeyHint = "sk-…" }, Ct);
        await prices.SetUserAsync(new Price { Model = "m", Input = 1 }, Ct);
        await prices.UpsertSyncedAsync([new Price { Model = "m", Input = 2 }], Ct);
        await settings.SetAsync(new Dictionary<string, string> { ["proxy"] = "http://p", ["_auth_secret"] = "s3cret" }, Ct);

        var data = new ConfigurationData
        {
            Channels = await channels.ListAsync(Ct),
            Groups = await groups.ListAsync(Ct),
            ApiKeys = await keys.ListAsync(Ct),
            PriceOverrides = (await prices.ListAsync(Ct)).Where(p => p.Source == PriceSource.User).ToList(),
            Settings = new Dictionary<string, string> { ["proxy"] = "http://p" },
        };
        // A key-less backup (secrets blanked) still restores the secrets from the rows being replaced.
        var keyless = data with { Channels = data.Channels.Select(c => c with { Keys = c.Keys.Select(x => x with { Secret = "" }).ToList() }).ToList() };

        await channels.CreateAsync(NewChannel("extra", "sk-x"), Ct);
        await settings.SetAsync(new Dictionary<string, string> { ["log_retention_days"] = "1" }, Ct);
        var backup = new BackupStore(_db);
        await backup.ReplaceAsync(keyless, Ct);

        var restored = Assert.Single(await channels.ListAsync(Ct));
        Assert.Equal(c1.Id, restored.Id);
        Assert.Equal(c1.Keys.Select(x => (x.Id, x.Secret, x.Status)), restored.Keys.Select(x => (x.Id, x.Secret, x.Status)));
        Assert.Equal(c1.BaseUrls.Select(u => u.Url), restored.BaseUrls.Select(u => u.Url));
        var rg = Assert.Single(await groups.ListAsync(Ct));
        Assert.Equal((g.Id, c1.Id), (rg.Id, rg.Members[0].ChannelId));
        Assert.Equal(k.Id, Assert.Single(await keys.ListAsync(Ct)).Id);
        var all = await settings.GetAllAsync(Ct);
        Assert.Equal("http://p", all["proxy"]);
        Assert.Equal("s3cret", all["_auth_secret"]); // install-local settings survive
        Assert.False(all.ContainsKey("log_retention_days"));
        Assert.Equal(2, (await prices.ListAsync(Ct)).Count);

        // Identity sequences moved past the restored ids: new rows get fresh ids.
        var next = await channels.CreateAsync(NewChannel("after-import", "sk-9"), Ct);
        Assert.True(next.Id > c1.Id);
        var nextGroup = await groups.CreateAsync(new Group { Name = "g2", Members = [new GroupMember { ChannelId = next.Id, Model = "m" }] }, Ct);
        Assert.True(nextGroup.Id > g.Id);
    }
}
