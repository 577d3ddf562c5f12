using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteKeyLimitsApiTests : KeyLimitsApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresKeyLimitsApiTests : KeyLimitsApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public sealed class MySqlKeyLimitsApiTests : KeyLimitsApiTests
{
    internal override DbKind Kind => DbKind.MySql;
}

/// <summary>Per-group limits on an API key (migration 3) through create, get, update, validation and backup.</summary>
public abstract class KeyLimitsApiTests : AdminTestBase
{
    [Fact]
    public async Task Group_limits_round_trip_through_the_api_and_a_backup_and_are_validated()
    {
        var (status, k) = await Admin.PostJsonAsync("/api/v1/api-keys", J("""
            {"name":"team-a","rpm":60,"tpm":100000,"max_concurrency":4,
             "group_limits":{"gpt-4o":{"rpm":10,"max_concurrency":1},"claude":{"tpm":5000,"rpm":null},"empty":{}}}
            """));
        Assert.Equal(201, status);
        var id = k!["id"]!.GetValue<long>();
        var limits = k["group_limits"]!.AsObject();
        Assert.Equal(["claude", "gpt-4o"], limits.Select(p => p.Key).Order());
        Assert.Equal(10, limits["gpt-4o"]!["rpm"]!.GetValue<int>());
        Assert.Null(limits["gpt-4o"]!["tpm"]);
        Assert.Equal(1, limits["gpt-4o"]!["max_concurrency"]!.GetValue<int>());
        Assert.Equal(5000, limits["claude"]!["tpm"]!.GetValue<int>());

        var got = (await Admin.GetJsonAsync($"/api/v1/api-keys/{id}")).Body!;
        Assert.Equal(10, got["group_limits"]!["gpt-4o"]!["rpm"]!.GetValue<int>());
        Assert.Equal(4, got["max_concurrency"]!.GetValue<int>());

        // An update without the field keeps it; with it, replaces it; null clears it.
        var kept = await Admin.PutJsonAsync($"/api/v1/api-keys/{id}", J("""{"rpm":30}"""));
        Assert.Equal(2, kept.Body!["group_limits"]!.AsObject().Count);
        var replaced = await Admin.PutJsonAsync($"/api/v1/api-keys/{id}", J("""{"group_limits":{"gpt-4o":{"rpm":5}}}"""));
        Assert.Equal(200, replaced.Status);
        Assert.Equal(5, replaced.Body!["group_limits"]!["gpt-4o"]!["rpm"]!.GetValue<int>());
        Assert.Single(replaced.Body["group_limits"]!.AsObject());

        // The backup carries them, and an import restores them.
        var (_, backup) = await Admin.GetJsonAsync("/api/v1/backup");
        Assert.Equal(5, backup!["api_keys"]![0]!["group_limits"]!["gpt-4o"]!["rpm"]!.GetValue<int>());
        var cleared = await Admin.PutJsonAsync($"/api/v1/api-keys/{id}", J("""{"group_limits":null}"""));
        Assert.Empty(cleared.Body!["group_limits"]!.AsObject());
        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", backup)).Status);
        Assert.Equal(5, (await Admin.GetJsonAsync($"/api/v1/api-keys/{id}")).Body!["group_limits"]!["gpt-4o"]!["rpm"]!.GetValue<int>());

        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/api-keys/{id}", J("""
            {"group_limits":{"a":{"rpm":0},"b":{"tpm":"x"},"c":{"burst":3},"d":7,"":{"rpm":1}}}
            """)), "group_limits.a.rpm", "group_limits.b.tpm", "group_limits.c.burst", "group_limits.d");
        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/api-keys/{id}", J("""{"group_limits":[1]}""")), "group_limits");
        var bad = backup.DeepClone();
        bad["api_keys"]![0]!["group_limits"]!["gpt-4o"]!["rpm"] = 0;
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", bad), "group_limits");
    }
}
