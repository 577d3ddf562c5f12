using Dapper;

namespace Octopus.Storage;

/// <summary>
/// The configuration version shared by every instance on one database: bumped after each configuration write,
/// polled (and on PostgreSQL announced with NOTIFY) so other instances reload.
/// </summary>
internal sealed class ConfigVersionStore(Database db)
{
    private const string Entity = "configuration version";
    public const string NotifyChannel = "octopus_config";

    public Task<long> GetAsync(CancellationToken ct) =>
        db.RunAsync(Entity, conn => conn.ExecuteScalarAsync<long>("SELECT version FROM config_version WHERE id = 1", new { Cancel = ct }), ct);

    /// <summary>Bumps the version and returns the new one; on PostgreSQL also notifies listeners with <paramref name="payload"/>.</summary>
    public Task<long> BumpAsync(string payload, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            long version;
            if (db.Kind == DbKind.Postgres)
            {
                version = await conn.ExecuteScalarAsync<long>(
                    "UPDATE config_version SET version = version + 1, updated_at = @At WHERE id = 1 RETURNING version",
                    new { At = Database.NowMs(), Cancel = ct }, tx);
                // Delivered when the transaction commits.
                await conn.ExecuteAsync("SELECT pg_notify(@Channel, @Payload)", new { Channel = NotifyChannel, Payload = payload, Cancel = ct }, tx);
            }
            else
            {
                await conn.ExecuteAsync("UPDATE config_version SET version = version + 1, updated_at = @At WHERE id = 1",
                    new { At = Database.NowMs(), Cancel = ct }, tx);
                // The row is locked by our update until commit: this reads our own increment.
                version = await conn.ExecuteScalarAsync<long>("SELECT version FROM config_version WHERE id = 1", new { Cancel = ct }, tx);
            }
            return version;
        }, ct);
}
