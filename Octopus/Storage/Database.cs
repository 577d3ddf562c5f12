using System.Data.Common;
using System.Net.Sockets;
using Dapper;
using Microsoft.Data.Sqlite;
#if !SQLITE_ONLY
using MySqlConnector;
using Npgsql;
#endif
using Octopus.Configuration;
using Octopus.Hosting;

namespace Octopus.Storage;

internal enum DbKind
{
    Sqlite,
    Postgres,
    MySql,
}

/// <summary>
/// The one data layer of the process: opens connections for the configured database (sqlite, postgres, mysql),
/// applies migrations, and turns driver failures into <see cref="DuplicateNameException"/> /
/// <see cref="StoreUnavailableException"/>. Stores take it and keep no connection of their own.
/// </summary>
internal sealed class Database : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string? _password;
    /// <summary>PostgreSQL or MySQL connection pool; null for SQLite.</summary>
    private readonly DbDataSource? _server;

    /// <summary>
    /// The database types this binary can talk to. The SQLite-only ("lite") release, built with
    /// -p:OctopusDatabases=sqlite, leaves the PostgreSQL and MySQL drivers out to stay small.
    /// </summary>
#if SQLITE_ONLY
    public const string Flavour = "SQLite only (lite build)";
#else
    public const string Flavour = "SQLite, PostgreSQL, MySQL";
#endif

    public DbKind Kind { get; }

    /// <summary>Where the data lives, safe to log: `sqlite data/data.db`, `postgres host:5432/db`.</summary>
    public string Description { get; }

    private Database(DbKind kind, string connectionString, string description, string? password)
    {
        Kind = kind;
        _connectionString = connectionString;
        Description = description;
        _password = password;
        _server = kind switch
        {
#if !SQLITE_ONLY
            // The slim builder leaves out the reflection-heavy plugins; we only read scalars.
            DbKind.Postgres => new NpgsqlSlimDataSourceBuilder(connectionString).Build(),
            DbKind.MySql => new MySqlDataSource(connectionString),
#endif
            _ => null,
        };
    }

    public static Database Create(OctopusConfig config)
    {
        switch (config.DatabaseType)
        {
            case "sqlite":
            {
                if (string.IsNullOrWhiteSpace(config.DatabasePath)) throw new StartupException("database.path must be a file path for sqlite");
                var full = Path.GetFullPath(config.DatabasePath);
                try
                {
                    var dir = Path.GetDirectoryName(full);
                    if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new StartupException($"cannot create the directory for database.path={config.DatabasePath}: {e.Message}");
                }
                SqliteNative.EnsureInitialized();
                var cs = new SqliteConnectionStringBuilder
                {
                    DataSource = full,
                    Mode = SqliteOpenMode.ReadWriteCreate,
                    Cache = SqliteCacheMode.Private,
                    Pooling = true,
                    ForeignKeys = true,
                    DefaultTimeout = 30,
                }.ToString();
                return new Database(DbKind.Sqlite, cs, "sqlite " + config.DatabasePath, null);
            }
#if SQLITE_ONLY
            case "postgres" or "mysql":
                throw new StartupException($"database.type={config.DatabaseType} needs the full build of Octopus: this is the SQLite-only (lite) " +
                    "build. Download the octopus-VERSION-RID archive without -lite, or set database.type to sqlite");
#else
            case "postgres":
            {
                var t = DatabaseUrl.ParsePostgres(config.DatabaseUrl);
                return new Database(DbKind.Postgres, t.ConnectionString, t.Description, new NpgsqlConnectionStringBuilder(t.ConnectionString).Password);
            }
            case "mysql":
            {
                var t = DatabaseUrl.ParseMySql(config.DatabaseUrl);
                return new Database(DbKind.MySql, t.ConnectionString, t.Description, new MySqlConnectionStringBuilder(t.ConnectionString).Password);
            }
#endif
            default:
                throw new StartupException($"database.type={config.DatabaseType} is not one of sqlite, postgres, mysql");
        }
    }

    /// <summary>An open connection (SQLite: busy timeout and foreign keys set). Caller disposes.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection conn = _server is not null ? _server.CreateConnection() : new SqliteConnection(_connectionString);
        try
        {
            await conn.OpenAsync(ct);
            if (Kind == DbKind.Sqlite)
            {
                // Per-connection settings; journal_mode=WAL is stored in the file by the migrator.
                await conn.ExecuteAsync("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL");
            }
            return conn;
        }
        catch (Exception e)
        {
            await conn.DisposeAsync();
            if (Unavailable(e) is { } u) throw u;
            throw;
        }
    }

    public Task MigrateAsync(CancellationToken ct) => Migrations.Migrator.RunAsync(this, ct);

#if !SQLITE_ONLY
    /// <summary>PostgreSQL: a data source for the one long-lived LISTEN connection (unpooled, TCP keepalive on).</summary>
    public NpgsqlDataSource CreateListenerSource() => new NpgsqlSlimDataSourceBuilder(
        new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false, KeepAlive = 15, ApplicationName = "octopus-listen" }.ConnectionString).Build();
#endif

    /// <summary>null when the database answers; otherwise a short reason without secrets.</summary>
    public async Task<string?> CheckAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await OpenAsync(ct);
            await conn.ExecuteScalarAsync<long>("SELECT 1");
            return null;
        }
        catch (StoreUnavailableException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"database check failed ({Description}): {Scrub(e.Message)}";
        }
    }

    /// <summary>Runs work on a fresh connection, translating driver failures.</summary>
    public async Task<T> RunAsync<T>(string entity, Func<DbConnection, Task<T>> work, CancellationToken ct)
    {
        T result;
        try
        {
            await using var conn = await OpenAsync(ct);
            result = await work(conn);
        }
        catch (Exception e) when (Translate(e, entity) is { } t)
        {
            throw t;
        }
        await ResumeCaller();
        return result;
    }

    /// <summary>Runs work in one transaction (SQLite: BEGIN IMMEDIATE), committed when it returns.</summary>
    public async Task<T> TransactAsync<T>(string entity, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        T result;
        try
        {
            await using var conn = await OpenAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            result = await work(conn, tx);
            await tx.CommitAsync(ct);
        }
        catch (Exception e) when (Translate(e, entity) is { } t)
        {
            throw t;
        }
        await ResumeCaller();
        return result;
    }

    /// <summary>
    /// A PostgreSQL or MySQL reply completes on a socket event thread, where the caller's next steps (a snapshot
    /// rebuild, a backup's JSON, a price reload) would hold up other sockets: callers resume on the pool. SQLite
    /// completes synchronously on the caller's own thread.
    /// </summary>
    private ValueTask ResumeCaller() => _server is null ? ValueTask.CompletedTask : Hosting.EventThreads.LeaveAsync();

    /// <summary>`INSERT ...` that yields the new id as a scalar (MySQL has no RETURNING).</summary>
    public string ReturningId(string insertSql) =>
        Kind == DbKind.MySql ? insertSql + "; SELECT LAST_INSERT_ID()" : insertSql + " RETURNING id";

    /// <summary>Byte length of a text column, for cleanup previews.</summary>
    public string ByteLength(string column) => Kind switch
    {
        DbKind.Postgres => $"COALESCE(octet_length({column}), 0)",
        DbKind.MySql => $"COALESCE(LENGTH({column}), 0)",
        _ => $"COALESCE(length(CAST({column} AS BLOB)), 0)",
    };

    /// <summary>SUM of an integer column as a 64-bit integer (PG and MySQL widen SUM to numeric/decimal).</summary>
    public string SumInt(string expr) => Kind switch
    {
        DbKind.Postgres => $"CAST(COALESCE(SUM({expr}), 0) AS BIGINT)",
        DbKind.MySql => $"CAST(COALESCE(SUM({expr}), 0) AS SIGNED)",
        _ => $"CAST(COALESCE(SUM({expr}), 0) AS INTEGER)",
    };

    public string SumReal(string expr) => Kind switch
    {
        DbKind.Postgres => $"CAST(COALESCE(SUM({expr}), 0) AS DOUBLE PRECISION)",
        DbKind.MySql => $"CAST(COALESCE(SUM({expr}), 0) AS DOUBLE)",
        _ => $"CAST(COALESCE(SUM({expr}), 0) AS REAL)",
    };

    public string CastText(string expr) => Kind == DbKind.MySql ? $"CAST({expr} AS CHAR)" : $"CAST({expr} AS TEXT)";

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Maps a driver exception to ours, or null to let it pass.</summary>
    internal Exception? Translate(Exception e, string entity)
    {
        if (e is DuplicateNameException or StoreUnavailableException or OperationCanceledException) return null;
        if (UniqueViolation(e, entity) is { } dup) return dup;
        return Unavailable(e);
    }

    private static DuplicateNameException? UniqueViolation(Exception e, string entity)
    {
        string? where = e switch
        {
            SqliteException s when s.SqliteErrorCode == 19 && s.SqliteExtendedErrorCode is 2067 or 1555 => SqliteUniqueColumn(s.Message),
#if !SQLITE_ONLY
            PostgresException p when p.SqlState == "23505" => p.ConstraintName ?? "",
            MySqlException m when m.ErrorCode == MySqlErrorCode.DuplicateKeyEntry => MySqlKeyName(m.Message),
#endif
            _ => null,
        };
        if (where is null) return null;
        return UniqueKeys.TryGetValue(where, out var k)
            ? new DuplicateNameException(k.Entity, k.Field, e)
            : new DuplicateNameException(entity, "name", e);
    }

    /// <summary>Unique index names (PG, MySQL) and table.column (SQLite's message) → what the user sees.</summary>
    private static readonly Dictionary<string, (string Entity, string Field)> UniqueKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ux_channels_name"] = ("channel", "name"),
        ["channels.name"] = ("channel", "name"),
        ["ux_relay_groups_name"] = ("group", "name"),
        ["relay_groups.name"] = ("group", "name"),
        ["ux_api_keys_name"] = ("api key", "name"),
        ["api_keys.name"] = ("api key", "name"),
        ["ux_api_keys_key_hash"] = ("api key", "key"),
        ["api_keys.key_hash"] = ("api key", "key"),
        ["ux_admin_users_username"] = ("admin user", "username"),
        ["admin_users.username"] = ("admin user", "username"),
        ["prices_pkey"] = ("price", "model"),
        ["PRIMARY"] = ("price", "model"),
        ["prices.model"] = ("price", "model"),
    };

    private static string SqliteUniqueColumn(string message)
    {
        // SQLite Error 19: 'UNIQUE constraint failed: channels.name'.
        const string marker = "constraint failed: ";
        var i = message.IndexOf(marker, StringComparison.Ordinal);
        if (i < 0) return "";
        var rest = message[(i + marker.Length)..];
        var end = rest.IndexOfAny([',', '\'', ' ']);
        return end < 0 ? rest : rest[..end];
    }

    private static string MySqlKeyName(string message)
    {
        // MariaDB: Duplicate entry 'x' for key 'ux_channels_name'; MySQL 8: ... for key 'channels.ux_channels_name'.
        const string marker = "for key '";
        var i = message.LastIndexOf(marker, StringComparison.Ordinal);
        if (i < 0) return "";
        var key = message[(i + marker.Length)..].TrimEnd('\'', '.');
        var dot = key.LastIndexOf('.');
        return dot >= 0 ? key[(dot + 1)..] : key;
    }

    private StoreUnavailableException? Unavailable(Exception e)
    {
        var reason = e switch
        {
            SqliteException s when s.SqliteErrorCode is 14 => "cannot open the database file",
            SqliteException s when s.SqliteErrorCode is 5 or 6 => "the database is locked by another writer",
            SqliteException s when s.SqliteErrorCode is 10 or 13 or 26 => "disk I/O error",
#if !SQLITE_ONLY
            PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal)
                || p.SqlState.StartsWith("53", StringComparison.Ordinal) => p.MessageText,
            PostgresException p when p.SqlState is "28P01" or "28000" => "authentication failed",
            PostgresException p when p.SqlState is "3D000" => "the database does not exist",
            PostgresException => null,
            NpgsqlException n => n.InnerException is SocketException se ? SocketReason(se) : (n.InnerException is TimeoutException ? "timed out" : n.Message),
            MySqlException m when m.ErrorCode is MySqlErrorCode.UnableToConnectToHost => m.InnerException is SocketException se ? SocketReason(se) : "cannot connect",
            MySqlException m when m.ErrorCode is MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied => "authentication failed",
            MySqlException m when m.ErrorCode is MySqlErrorCode.UnknownDatabase => "the database does not exist",
            MySqlException m when m.ErrorCode is MySqlErrorCode.ConnectionCountError or MySqlErrorCode.TooManyUserConnections => "too many connections",
            MySqlException m when m.ErrorCode is MySqlErrorCode.ServerShutdown or MySqlErrorCode.CommandTimeoutExpired or MySqlErrorCode.UnknownError
                || m.IsTransient || (int)m.ErrorCode is >= 2000 and < 3000 => m.Message,
#endif
            SocketException se => SocketReason(se),
            TimeoutException => "timed out",
            IOException io => io.Message,
            _ => null,
        };
        return reason is null ? null : new StoreUnavailableException($"database unavailable ({Description}): {Scrub(reason)}", e);
    }

    private static string SocketReason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
        SocketError.ConnectionReset => "connection reset",
        _ => e.SocketErrorCode.ToString(),
    };

    private string Scrub(string message)
    {
        if (!string.IsNullOrEmpty(_password)) message = message.Replace(_password, "***", StringComparison.Ordinal);
        var line = message.Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] : line;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (Kind == DbKind.Sqlite)
        {
            using var conn = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(conn);
        }
    }
}
