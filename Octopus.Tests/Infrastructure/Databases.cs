using MySqlConnector;
using Npgsql;
using Octopus.Configuration;
using Octopus.Storage;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database of one kind for one test (class), dropped on dispose so runs repeat. PostgreSQL and
/// MariaDB come from scripts/test-dbs.sh; OCTOPUS_TEST_PG / OCTOPUS_TEST_MYSQL point elsewhere. An unreachable
/// server fails the test: it is never skipped.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string DefaultPg = "postgresql://octopus:octopus@127.0.0.1:5432/octopus_test";
    public const string DefaultMySql = "octopus:octopus@tcp(127.0.0.1:3306)/octopus_test";

    public static string PgUrl => Environment.GetEnvironmentVariable("OCTOPUS_TEST_PG") is { Length: > 0 } v ? v : DefaultPg;
    /// <summary>The private cluster the outage tests stop and start (scripts/test-dbs.sh creates it); nothing else uses it.</summary>
    public const string DefaultPgOutage = "postgresql://octopus:octopus@127.0.0.1:5434/octopus_test";
    public static string PgOutageUrl => Environment.GetEnvironmentVariable("OCTOPUS_TEST_PG_OUTAGE") is { Length: > 0 } v ? v : DefaultPgOutage;
    public static string MySqlUrl => Environment.GetEnvironmentVariable("OCTOPUS_TEST_MYSQL") is { Length: > 0 } v ? v : DefaultMySql;

    public DbKind Kind { get; }
    /// <summary>Points at the fresh database (sqlite: a file in a temp directory).</summary>
    public OctopusConfig Config { get; }
    private readonly string _name;
    private readonly string? _tempDir;
    private readonly string _pgUrl = PgUrl;
    private readonly List<Database> _opened = [];

    private TestDatabase(DbKind kind, OctopusConfig config, string name, string? tempDir, string? pgUrl = null)
    {
        _pgUrl = pgUrl ?? PgUrl;
        Kind = kind;
        Config = config;
        _name = name;
        _tempDir = tempDir;
    }

    /// <param name="pgServer">PostgreSQL only: another server than <see cref="PgUrl"/> (e.g. <see cref="PgOutageUrl"/>).</param>
    public static async Task<TestDatabase> CreateAsync(DbKind kind, string? pgServer = null)
    {
        var name = "octopus_t_" + Guid.NewGuid().ToString("N")[..12];
        switch (kind)
        {
            case DbKind.Postgres:
            {
                var admin = DatabaseUrl.ParsePostgres(pgServer ?? PgUrl).ConnectionString;
                await using (var conn = new NpgsqlConnection(admin))
                {
                    await conn.OpenAsync();
                    await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
                    await cmd.ExecuteNonQueryAsync();
                }
                var cs = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
                return new TestDatabase(kind, new OctopusConfig { DatabaseType = "postgres", DatabaseUrl = cs }, name, null, pgServer);
            }
            case DbKind.MySql:
            {
                var admin = DatabaseUrl.ParseMySql(MySqlUrl).ConnectionString;
                await using (var conn = new MySqlConnection(admin))
                {
                    await conn.OpenAsync();
                    await using var cmd = new MySqlCommand($"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", conn);
                    await cmd.ExecuteNonQueryAsync();
                }
                var cs = new MySqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
                return new TestDatabase(kind, new OctopusConfig { DatabaseType = "mysql", DatabaseUrl = cs }, name, null);
            }
            default:
            {
                var dir = Path.Combine(Path.GetTempPath(), name);
                Directory.CreateDirectory(dir);
                return new TestDatabase(kind, new OctopusConfig { DatabaseType = "sqlite", DatabasePath = Path.Combine(dir, "data", "data.db") }, name, dir);
            }
        }
    }

    /// <summary>A new Database on this test database (not migrated); disposed with this object.</summary>
    public Database Open()
    {
        var db = Database.Create(Config);
        lock (_opened) _opened.Add(db);
        return db;
    }

    /// <summary>A Database with the schema applied.</summary>
    public async Task<Database> OpenMigratedAsync()
    {
        var db = Open();
        await db.MigrateAsync(CancellationToken.None);
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        Database[] opened;
        lock (_opened) opened = [.. _opened];
        foreach (var db in opened) await db.DisposeAsync();
        switch (Kind)
        {
            case DbKind.Postgres:
            {
                NpgsqlConnection.ClearAllPools();
                await using var conn = new NpgsqlConnection(DatabaseUrl.ParsePostgres(_pgUrl).ConnectionString);
                await conn.OpenAsync();
                // A session may linger for a moment (or be an autovacuum worker we may not terminate): retry, bounded.
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        await using var cmd = new NpgsqlCommand(attempt % 2 == 0 ? $"DROP DATABASE IF EXISTS {_name}" : $"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", conn);
                        await cmd.ExecuteNonQueryAsync();
                        break;
                    }
                    catch (PostgresException e) when (e.SqlState is "55006" or "42501" && attempt < 40)
                    {
                        await Task.Delay(250);
                    }
                }
                break;
            }
            case DbKind.MySql:
            {
                await using var conn = new MySqlConnection(DatabaseUrl.ParseMySql(MySqlUrl).ConnectionString);
                await conn.OpenAsync();
                await using var cmd = new MySqlCommand($"DROP DATABASE IF EXISTS {_name}", conn);
                await cmd.ExecuteNonQueryAsync();
                break;
            }
            default:
                try { Directory.Delete(_tempDir!, recursive: true); }
                catch (IOException) { }
                break;
        }
    }
}
