using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Storage.Migrations;
using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Storage;

public sealed class DatabaseUrlTests
{
    [Fact]
    public void Postgres_url_with_encoded_password_and_sslmode_is_parsed()
    {
        var t = DatabaseUrl.ParsePostgres("postgresql://app:p%40ss%3Aw0rd@db.internal:6543/octo?sslmode=disable&application_name=oct");
        var b = new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString);
        Assert.Equal(("db.internal", 6543, "app", "p@ss:w0rd", "octo"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal(Npgsql.SslMode.Disable, b.SslMode);
        Assert.Equal("oct", b.ApplicationName);
        Assert.Equal("postgres db.internal:6543/octo", t.Description);
        Assert.DoesNotContain("w0rd", t.Description);
    }

    [Fact]
    public void Postgres_url_defaults_the_port_and_accepts_the_short_scheme()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(DatabaseUrl.ParsePostgres("postgres://u@localhost/d").ConnectionString);
        Assert.Equal(("localhost", 5432, "u", "d"), (b.Host, b.Port, b.Username, b.Database));
    }

    [Fact]
    public void Postgres_libpq_key_value_string_is_parsed()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(
            DatabaseUrl.ParsePostgres("host=127.0.0.1 port=5433 user=octopus password='sec ret' dbname=octo sslmode=require").ConnectionString);
        Assert.Equal(("127.0.0.1", 5433, "octopus", "sec ret", "octo"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal(Npgsql.SslMode.Require, b.SslMode);
    }

    [Fact]
    public void Postgres_npgsql_style_string_is_accepted()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(DatabaseUrl.ParsePostgres("Host=h;Port=1234;Username=u;Password=p;Database=d").ConnectionString);
        Assert.Equal(("h", 1234, "u", "p", "d"), (b.Host, b.Port, b.Username, b.Password, b.Database));
    }

    [Fact]
    public void Mysql_go_dsn_from_the_original_octopus_is_parsed()
    {
        var t = DatabaseUrl.ParseMySql("root:my$ecret@tcp(10.1.2.3:3307)/octopus?charset=utf8mb4&parseTime=True&loc=Local");
        var b = new MySqlConnector.MySqlConnectionStringBuilder(t.ConnectionString);
        Assert.Equal(("10.1.2.3", 3307u, "root", "my$ecret", "octopus"), (b.Server, b.Port, b.UserID, b.Password, b.Database));
        Assert.Equal("mysql 10.1.2.3:3307/octopus", t.Description);
    }

    [Fact]
    public void Mysql_go_dsn_without_port_uses_3306()
    {
        var b = new MySqlConnector.MySqlConnectionStringBuilder(DatabaseUrl.ParseMySql("u:p@tcp(db)/x").ConnectionString);
        Assert.Equal(("db", 3306u, "x"), (b.Server, b.Port, b.Database));
    }

    [Fact]
    public void Mysql_standard_connection_string_and_url_are_accepted()
    {
        var b = new MySqlConnector.MySqlConnectionStringBuilder(DatabaseUrl.ParseMySql("Server=db;Port=3310;User ID=u;Password=p;Database=d").ConnectionString);
        Assert.Equal(("db", 3310u, "u", "p", "d"), (b.Server, b.Port, b.UserID, b.Password, b.Database));
        var u = new MySqlConnector.MySqlConnectionStringBuilder(DatabaseUrl.ParseMySql("mysql://u:p%2F1@db:3311/d").ConnectionString);
        Assert.Equal(("db", 3311u, "u", "p/1", "d"), (u.Server, u.Port, u.UserID, u.Password, u.Database));
    }

    [Theory]
    [InlineData("postgres", "postgresql://u:Hunter2Secret@host:notaport/db")]
    [InlineData("postgres", "postgresql://u:Hunter2Secret@host:5432/db?weird=1")]
    [InlineData("postgres", "postgresql://u:Hunter2Secret@host:5432")]
    [InlineData("postgres", "Host=h;Password=Hunter2Secret;Bogus=1")]
    [InlineData("postgres", "just-some-words Hunter2Secret")]
    [InlineData("mysql", "u:Hunter2Secret@tcp(h:99999)/db")]
    [InlineData("mysql", "u:Hunter2Secret@tcp(h:3306)/db?nonsense=1")]
    [InlineData("mysql", "Server=h;Password=Hunter2Secret;Bogus=1")]
    [InlineData("mysql", "u:Hunter2Secret@tcp(h:3306)/")]
    public void Bad_url_throws_one_line_StartupException_without_the_password(string type, string url)
    {
        var e = Assert.Throws<StartupException>(() => Database.Create(new OctopusConfig { DatabaseType = type, DatabaseUrl = url }));
        Assert.StartsWith("database.url is not a valid " + type, e.Message);
        Assert.DoesNotContain("Hunter2Secret", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

public sealed class DatabaseAvailabilityTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Theory]
    [InlineData("postgres", "postgresql://octopus:Hunter2Secret@127.0.0.1:1/octopus_test?connect_timeout=3")]
    [InlineData("mysql", "octopus:Hunter2Secret@tcp(127.0.0.1:1)/octopus_test")]
    public async Task Unreachable_server_gives_StoreUnavailableException_and_a_check_reason_without_secrets(string type, string url)
    {
        await using var db = Database.Create(new OctopusConfig { DatabaseType = type, DatabaseUrl = url });
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => new ChannelStore(db).ListAsync(Ct));
        Assert.Contains("database unavailable", e.Message);
        Assert.Contains("127.0.0.1:1", e.Message);
        Assert.DoesNotContain("Hunter2Secret", e.Message);
        var reason = await db.CheckAsync(Ct);
        Assert.NotNull(reason);
        Assert.DoesNotContain("Hunter2Secret", reason);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => db.MigrateAsync(Ct));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task Wrong_password_is_reported_as_unavailable_without_echoing_it(string type)
    {
        var url = type == "postgres"
            ? new Npgsql.NpgsqlConnectionStringBuilder(DatabaseUrl.ParsePostgres(TestDatabase.PgUrl).ConnectionString) { Password = "WrongHunter2" }.ConnectionString
            : new MySqlConnector.MySqlConnectionStringBuilder(DatabaseUrl.ParseMySql(TestDatabase.MySqlUrl).ConnectionString) { Password = "WrongHunter2" }.ConnectionString;
        await using var db = Database.Create(new OctopusConfig { DatabaseType = type, DatabaseUrl = url });
        var reason = await db.CheckAsync(Ct);
        Assert.NotNull(reason);
        Assert.Contains("authentication failed", reason);
        Assert.DoesNotContain("WrongHunter2", reason);
    }

    [Fact]
    public async Task Sqlite_file_that_cannot_be_opened_is_unavailable()
    {
        var dir = Path.Combine(Path.GetTempPath(), "octopus_t_" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(dir, "data.db")); // a directory where the file should be
        try
        {
            await using var db = Database.Create(new OctopusConfig { DatabaseType = "sqlite", DatabasePath = Path.Combine(dir, "data.db") });
            await Assert.ThrowsAsync<StoreUnavailableException>(() => db.MigrateAsync(Ct));
            Assert.NotNull(await db.CheckAsync(Ct));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

public sealed class SqliteDatabaseTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Sqlite_creates_the_directory_and_uses_wal_incremental_vacuum_and_busy_timeout()
    {
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        Assert.False(Directory.Exists(Path.GetDirectoryName(test.Config.DatabasePath)));
        var db = await test.OpenMigratedAsync();
        Assert.True(File.Exists(test.Config.DatabasePath));
        await using var conn = await db.OpenAsync(Ct);
        async Task<string> Pragma(string name)
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA " + name;
            return Convert.ToString(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
        }
        Assert.Equal("wal", await Pragma("journal_mode"));
        Assert.Equal("2", await Pragma("auto_vacuum")); // INCREMENTAL
        Assert.Equal("1", await Pragma("foreign_keys"));
        Assert.True(int.Parse(await Pragma("busy_timeout"), System.Globalization.CultureInfo.InvariantCulture) >= 5000);
    }

    [Fact]
    public async Task Sqlite_runs_without_malloc_statistics()
    {
        // SQLITE_CONFIG_MEMSTATUS off (with multi-thread mode, set in the same place) drops two mutexes from every
        // log insert; with statistics on, sqlite3_memory_used counts the open connection's memory.
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await test.OpenMigratedAsync();
        await using var conn = await db.OpenAsync(Ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM request_logs";
        await cmd.ExecuteScalarAsync();
        Assert.Equal(0, SQLitePCL.raw.sqlite3_memory_used());
        Assert.True(SqliteNative.Tuned);
    }

    [Fact]
    public async Task Server_start_migrates_and_readyz_reports_the_database()
    {
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        test.Config.Host = "127.0.0.1";
        test.Config.Port = 0;
        await using var app = await OctopusServer.BuildAsync(test.Config);
        await app.StartAsync();
        try
        {
            var address = OctopusServer.ListeningAddresses(app).First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            var ready = await http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal(Schema.All.Count, (await Migrator.AppliedAsync(app.Services.GetRequiredService<Database>(), Ct)).Count);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Server_start_with_unreachable_database_fails_with_one_line()
    {
        var config = new OctopusConfig { Host = "127.0.0.1", Port = 0, DatabaseType = "postgres", DatabaseUrl = "postgresql://u:Hunter2Secret@127.0.0.1:1/db?connect_timeout=3" };
        var e = await Assert.ThrowsAsync<StartupException>(() => OctopusServer.BuildAsync(config));
        Assert.Contains("database unavailable", e.Message);
        Assert.DoesNotContain("Hunter2Secret", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
