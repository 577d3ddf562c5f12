using System.Data.Common;
using Dapper;

namespace Octopus.Storage;

/// <summary>Name → value text. Which names exist and what they mean lives in Admin's settings registry.</summary>
internal sealed class SettingStore(Database db)
{
    private const string Entity = "setting";

    public Task<IReadOnlyDictionary<string, string>> GetAllAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyDictionary<string, string>>(Entity, async conn =>
            (await conn.QueryAsync<SettingRow>("SELECT name, value FROM settings", new { Cancel = ct }))
                .ToDictionary(r => r.Name, r => r.Value, StringComparer.Ordinal), ct);

    /// <summary>Inserts or replaces each given name, in one transaction.</summary>
    public Task SetAsync(IReadOnlyDictionary<string, string> values, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            await UpsertAsync(db, conn, tx, values);
            return 0;
        }, ct);

    /// <summary>Writes the value only if the name has none yet; returns the value stored afterwards (ours or a racing writer's).</summary>
    public Task<string> SetIfAbsentAsync(string name, string value, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var sql = db.Kind == DbKind.MySql
                ? "INSERT IGNORE INTO settings (name, value, updated_at) VALUES (@Name, @Value, @At)"
                : "INSERT INTO settings (name, value, updated_at) VALUES (@Name, @Value, @At) ON CONFLICT (name) DO NOTHING";
            await conn.ExecuteAsync(sql, new { Name = name, Value = value, At = Database.NowMs() }, tx);
            return (await conn.QueryAsync<string>("SELECT value FROM settings WHERE name = @Name", new { Name = name }, tx)).FirstOrDefault() ?? value;
        }, ct);

    internal static async Task UpsertAsync(Database db, DbConnection conn, DbTransaction tx, IReadOnlyDictionary<string, string> values)
    {
        var sql = db.Kind == DbKind.MySql
            ? "INSERT INTO settings (name, value, updated_at) VALUES (@Name, @Value, @At) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)"
            : "INSERT INTO settings (name, value, updated_at) VALUES (@Name, @Value, @At) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
        var now = Database.NowMs();
        foreach (var (name, value) in values)
            await conn.ExecuteAsync(sql, new { Name = name, Value = value, At = now }, tx);
    }
}
