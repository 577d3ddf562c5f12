using System.Data.Common;
using Dapper;

namespace Octopus.Storage.Migrations;

/// <summary>
/// Applies pending migrations and records them in `schema_migrations`. Safe to run twice and from two processes
/// at once: PostgreSQL holds an advisory lock, MySQL a named lock, SQLite takes the write lock per migration
/// (BEGIN IMMEDIATE) and re-checks the version inside it.
/// </summary>
internal static class Migrator
{
    private const long PostgresLockKey = 0x0C70_7005; // arbitrary, fixed: "octopus migrations"
    private const string MySqlLockName = "octopus_schema_migrations";

    public static async Task RunAsync(Database db, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct);
        try
        {
            if (db.Kind == DbKind.Sqlite)
            {
                // auto_vacuum only takes effect before the first table exists; WAL is remembered by the file.
                await conn.ExecuteAsync("PRAGMA auto_vacuum = INCREMENTAL", new { Cancel = ct });
                await conn.ExecuteAsync("PRAGMA journal_mode = WAL", new { Cancel = ct });
            }
            await LockAsync(db.Kind, conn, ct);
            try
            {
                await conn.ExecuteAsync(Schema.Render("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT NOT NULL PRIMARY KEY,
                        name {str} NOT NULL,
                        applied_at BIGINT NOT NULL
                    ) {opts}
                    """, db.Kind));

                foreach (var migration in Schema.All)
                {
                    await using var tx = await conn.BeginTransactionAsync(ct);
                    var done = await conn.ExecuteScalarAsync<long>(
                        "SELECT COUNT(*) FROM schema_migrations WHERE version = @Version",
                        new { Version = (long)migration.Version, Cancel = ct }, tx);
                    if (done > 0)
                    {
                        await tx.CommitAsync(ct);
                        continue;
                    }
                    foreach (var step in migration.Steps) await ApplyAsync(db.Kind, conn, tx, step, ct);
                    await conn.ExecuteAsync(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @At)",
                        new { Version = (long)migration.Version, migration.Name, At = Database.NowMs(), Cancel = ct }, tx);
                    await tx.CommitAsync(ct);
                }
            }
            finally
            {
                await UnlockAsync(db.Kind, conn);
            }
        }
        catch (Exception e) when (db.Translate(e, "schema") is { } t)
        {
            throw t;
        }
    }

    /// <summary>Versions recorded as applied, oldest first.</summary>
    public static async Task<IReadOnlyList<long>> AppliedAsync(Database db, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct);
        var rows = await conn.QueryAsync<long>("SELECT version FROM schema_migrations ORDER BY version", new { Cancel = ct });
        return rows.ToList();
    }

    private static async Task ApplyAsync(DbKind kind, DbConnection conn, DbTransaction tx, MigrationStep step, CancellationToken ct)
    {
        switch (step)
        {
            case SqlStep s:
                await conn.ExecuteAsync(Schema.Render(s.Sql, kind), transaction: tx);
                break;
            case IndexStep i when kind == DbKind.MySql:
                if (!await IndexExistsAsync(conn, tx, i.Table, i.Name, ct)) await conn.ExecuteAsync($"CREATE INDEX {i.Name} ON {i.Table} ({i.Columns})", transaction: tx);
                break;
            case IndexStep i:
                await conn.ExecuteAsync($"CREATE INDEX IF NOT EXISTS {i.Name} ON {i.Table} ({i.Columns})", transaction: tx);
                break;
            case DropIndexStep d when kind == DbKind.MySql:
                if (await IndexExistsAsync(conn, tx, d.Table, d.Name, ct)) await conn.ExecuteAsync($"DROP INDEX {d.Name} ON {d.Table}", transaction: tx);
                break;
            case DropIndexStep d:
                await conn.ExecuteAsync($"DROP INDEX IF EXISTS {d.Name}", transaction: tx);
                break;
        }
    }

    private static async Task<bool> IndexExistsAsync(DbConnection conn, DbTransaction tx, string table, string name, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = @Table AND index_name = @Name",
            new { Table = table, Name = name, Cancel = ct }, tx) > 0;

    private static async Task LockAsync(DbKind kind, DbConnection conn, CancellationToken ct)
    {
        switch (kind)
        {
            case DbKind.Postgres:
                await conn.ExecuteAsync("SELECT pg_advisory_lock(@Key)", new { Key = PostgresLockKey, Cancel = ct });
                break;
            case DbKind.MySql:
                // Waits up to 5 minutes for another process's migration to finish.
                var got = await conn.ExecuteScalarAsync<long?>("SELECT GET_LOCK(@Name, 300)", new { Name = MySqlLockName, Cancel = ct });
                if (got != 1) throw new StoreUnavailableException("could not take the migration lock (another process held it for 5 minutes)");
                break;
        }
    }

    private static async Task UnlockAsync(DbKind kind, DbConnection conn)
    {
        try
        {
            switch (kind)
            {
                case DbKind.Postgres:
                    await conn.ExecuteAsync("SELECT pg_advisory_unlock(@Key)", new { Key = PostgresLockKey });
                    break;
                case DbKind.MySql:
                    await conn.ExecuteAsync("SELECT RELEASE_LOCK(@Name)", new { Name = MySqlLockName });
                    break;
            }
        }
        catch (Exception)
        {
            // The lock dies with the session anyway; closing the connection below releases it.
        }
    }
}
