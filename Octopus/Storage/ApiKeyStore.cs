using System.Data.Common;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>Client API keys; only the SHA-256 of each secret is stored.</summary>
internal sealed class ApiKeyStore(Database db)
{
    private const string Entity = "api key";
    private const string Columns =
        "id, name, key_hash, key_hint, enabled, expires_at, allowed_groups, budget, budget_period, rpm, tpm, max_concurrency, group_limits, created_at, updated_at";

    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<ApiKey>>(Entity, async conn =>
            (await conn.QueryAsync<ApiKeyRow>($"SELECT {Columns} FROM api_keys ORDER BY id", new { Cancel = ct })).Select(ToApiKey).ToList(), ct);

    public Task<ApiKey?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<ApiKeyRow>($"SELECT {Columns} FROM api_keys WHERE id = @Id", new { Id = id, Cancel = ct });
            return row is null ? null : ToApiKey(row);
        }, ct);

    public Task<ApiKey?> GetByHashAsync(string keyHash, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<ApiKeyRow>($"SELECT {Columns} FROM api_keys WHERE key_hash = @Hash", new { Hash = keyHash, Cancel = ct });
            return row is null ? null : ToApiKey(row);
        }, ct);

    public Task<ApiKey> CreateAsync(ApiKey key, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var id = await InsertAsync(db, conn, tx, key, keepId: false);
            var row = await conn.QuerySingleAsync<ApiKeyRow>($"SELECT {Columns} FROM api_keys WHERE id = @Id", new { Id = id, Cancel = ct }, tx);
            return ToApiKey(row);
        }, ct);

    /// <summary>Updates everything but the hash and hint (a key's secret never changes). null = not found.</summary>
    public Task<ApiKey?> UpdateAsync(ApiKey key, CancellationToken ct) =>
        db.TransactAsync<ApiKey?>(Entity, async (conn, tx) =>
        {
            var n = await conn.ExecuteAsync("""
                UPDATE api_keys SET name = @Name, enabled = @Enabled, expires_at = @ExpiresAt, allowed_groups = @AllowedGroups, budget = @Budget,
                    budget_period = @BudgetPeriod, rpm = @Rpm, tpm = @Tpm, max_concurrency = @MaxConcurrency, group_limits = @GroupLimits, updated_at = @UpdatedAt
                WHERE id = @Id
                """, new
            {
                key.Id,
                key.Name,
                key.Enabled,
                key.ExpiresAt,
                AllowedGroups = JsonColumn.Write(key.AllowedGroups),
                key.Budget,
                key.BudgetPeriod,
                Rpm = (long?)key.RequestsPerMinute,
                Tpm = (long?)key.TokensPerMinute,
                MaxConcurrency = (long?)key.MaxConcurrency,
                GroupLimits = JsonColumn.Write(key.GroupLimits),
                UpdatedAt = Database.NowMs(),
                Cancel = ct,
            }, tx);
            if (n == 0) return null;
            var row = await conn.QuerySingleAsync<ApiKeyRow>($"SELECT {Columns} FROM api_keys WHERE id = @Id", new { key.Id, Cancel = ct }, tx);
            return ToApiKey(row);
        }, ct);

    public Task<bool> DeleteAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteAsync("DELETE FROM api_keys WHERE id = @Id", new { Id = id, Cancel = ct }) > 0, ct);

    internal static async Task<long> InsertAsync(Database db, DbConnection conn, DbTransaction tx, ApiKey key, bool keepId)
    {
        var now = Database.NowMs();
        var args = new
        {
            key.Id,
            key.Name,
            key.KeyHash,
            key.KeyHint,
            key.Enabled,
            key.ExpiresAt,
            AllowedGroups = JsonColumn.Write(key.AllowedGroups),
            key.Budget,
            key.BudgetPeriod,
            Rpm = (long?)key.RequestsPerMinute,
            Tpm = (long?)key.TokensPerMinute,
            MaxConcurrency = (long?)key.MaxConcurrency,
            GroupLimits = JsonColumn.Write(key.GroupLimits),
            CreatedAt = keepId && key.CreatedAt > 0 ? key.CreatedAt : now,
            UpdatedAt = keepId && key.UpdatedAt > 0 ? key.UpdatedAt : now,
        };
        if (keepId && key.Id > 0)
        {
            await conn.ExecuteAsync($"""
                INSERT INTO api_keys ({Columns})
                VALUES (@Id, @Name, @KeyHash, @KeyHint, @Enabled, @ExpiresAt, @AllowedGroups, @Budget, @BudgetPeriod, @Rpm, @Tpm, @MaxConcurrency, @GroupLimits, @CreatedAt, @UpdatedAt)
                """, args, tx);
            return key.Id;
        }
        return await conn.ExecuteScalarAsync<long>(db.ReturningId("""
            INSERT INTO api_keys (name, key_hash, key_hint, enabled, expires_at, allowed_groups, budget, budget_period, rpm, tpm, max_concurrency, group_limits, created_at, updated_at)
            VALUES (@Name, @KeyHash, @KeyHint, @Enabled, @ExpiresAt, @AllowedGroups, @Budget, @BudgetPeriod, @Rpm, @Tpm, @MaxConcurrency, @GroupLimits, @CreatedAt, @UpdatedAt)
            """), args, tx);
    }

    private static ApiKey ToApiKey(ApiKeyRow r) => new()
    {
        Id = r.Id,
        Name = r.Name,
        KeyHash = r.KeyHash,
        KeyHint = r.KeyHint,
        Enabled = r.Enabled,
        ExpiresAt = r.ExpiresAt,
        AllowedGroups = JsonColumn.ReadList(r.AllowedGroups),
        Budget = r.Budget,
        BudgetPeriod = r.BudgetPeriod,
        RequestsPerMinute = (int?)r.Rpm,
        TokensPerMinute = (int?)r.Tpm,
        MaxConcurrency = (int?)r.MaxConcurrency,
        GroupLimits = JsonColumn.ReadGroupLimits(r.GroupLimits),
        CreatedAt = r.CreatedAt,
        UpdatedAt = r.UpdatedAt,
    };
}
