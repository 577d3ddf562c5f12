using System.Data.Common;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>The whole configuration as one value: what a backup holds and an import restores.</summary>
internal sealed record ConfigurationData
{
    public IReadOnlyList<Channel> Channels { get; init; } = [];
    public IReadOnlyList<Group> Groups { get; init; } = [];
    public IReadOnlyList<ApiKey> ApiKeys { get; init; } = [];
    /// <summary>User price overrides only; synced prices come back with the next sync.</summary>
    public IReadOnlyList<Price> PriceOverrides { get; init; } = [];
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<RoutingRule> Routes { get; init; } = [];
}

/// <summary>Replaces the configuration in one transaction (backup import).</summary>
internal sealed class BackupStore(Database db)
{
    /// <summary>Settings whose names start with this are install-local (e.g. the token secret) and survive imports.</summary>
    public const string InternalSettingPrefix = "_";

    /// <summary>
    /// Wipes channels, groups, routes, api keys, price overrides and settings, then inserts the given ones keeping their ids
    /// (so members, stats and logs still point at the right rows). A channel key without a secret (a backup made
    /// without keys) keeps the secret of the existing key with the same id, or is dropped when there is none.
    /// </summary>
    public Task ReplaceAsync(ConfigurationData data, CancellationToken ct) =>
        db.TransactAsync("backup", async (conn, tx) =>
        {
            var oldSecrets = (await conn.QueryAsync<ChannelKeyRow>(
                "SELECT id, channel_id, secret, enabled, status, status_reason, status_at, remark FROM channel_keys", new { Cancel = ct }, tx))
                .ToDictionary(k => k.Id, k => k.Secret);

            await conn.ExecuteAsync("DELETE FROM routing_rules", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM group_members", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM relay_groups", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_keys", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_base_urls", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_endpoints", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channels", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM api_keys", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM prices WHERE source = 'user'", new { Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM settings WHERE name NOT LIKE '!_%' ESCAPE '!'", new { Cancel = ct }, tx);

            foreach (var c in data.Channels)
            {
                var keys = c.Keys
                    .Select(k => string.IsNullOrEmpty(k.Secret) && oldSecrets.TryGetValue(k.Id, out var s) ? k with { Secret = s } : k)
                    .Where(k => !string.IsNullOrEmpty(k.Secret))
                    .ToList();
                await ChannelStore.InsertAsync(db, conn, tx, c with { Keys = keys }, keepIds: true, ct);
            }
            foreach (var g in data.Groups) await GroupStore.InsertAsync(db, conn, tx, g, keepIds: true);
            foreach (var r in data.Routes) await RoutingRuleStore.InsertAsync(db, conn, tx, r, keepId: true);
            foreach (var k in data.ApiKeys) await ApiKeyStore.InsertAsync(db, conn, tx, k, keepId: true);
            foreach (var p in data.PriceOverrides)
                await PriceStore.UpsertAsync(db, conn, tx, p with { Source = PriceSource.User, UpdatedAt = p.UpdatedAt > 0 ? p.UpdatedAt : Database.NowMs() });
            var settings = data.Settings.Where(kv => !kv.Key.StartsWith(InternalSettingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value);
            await SettingStore.UpsertAsync(db, conn, tx, settings);

            if (db.Kind == DbKind.Postgres) await ResetPostgresSequencesAsync(conn, tx);
            return 0;
        }, ct);

    /// <summary>Explicit ids do not advance PostgreSQL identity sequences; move them past the largest id.</summary>
    private static async Task ResetPostgresSequencesAsync(DbConnection conn, DbTransaction tx)
    {
        foreach (var table in (string[])["channels", "channel_base_urls", "channel_endpoints", "channel_keys", "relay_groups", "group_members", "api_keys", "routing_rules"])
        {
            await conn.ExecuteAsync(
                $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
                transaction: tx);
        }
    }
}
