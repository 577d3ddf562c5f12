using System.Text.Json;
using Octopus.Configuration;

namespace Octopus.Tests.Configuration;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("octopus-config-").FullName;
    private string PathOf(string name) => Path.Combine(_dir, name);
    private static readonly KeyValuePair<string, string?>[] NoEnv = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void First_start_writes_defaults_to_the_config_file()
    {
        var path = PathOf("data/config.json");
        var config = ConfigLoader.Load(path, NoEnv);

        Assert.True(File.Exists(path));
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal("0.0.0.0", doc.RootElement.GetProperty("server").GetProperty("host").GetString());
        Assert.Equal(8080, doc.RootElement.GetProperty("server").GetProperty("port").GetInt32());
        Assert.Equal("sqlite", doc.RootElement.GetProperty("database").GetProperty("type").GetString());
        Assert.Equal("data/data.db", doc.RootElement.GetProperty("database").GetProperty("path").GetString());
        Assert.Equal("info", doc.RootElement.GetProperty("log").GetProperty("level").GetString());
        Assert.Equal(8080, config.Port);
        // The generated file loads back to the same values.
        var again = ConfigLoader.Load(path, NoEnv);
        Assert.Equal(config.Host, again.Host);
        Assert.Equal(config.DatabasePath, again.DatabasePath);
    }

    [Fact]
    public void Env_overrides_use_single_underscores()
    {
        var config = ConfigLoader.Load(PathOf("c.json"), [
            new("OCTOPUS_SERVER_PORT", "18555"),
            new("OCTOPUS_DATABASE_TYPE", "postgres"),
            new("OCTOPUS_DATABASE_URL", "postgresql://u:p@127.0.0.1/db"),
            new("OCTOPUS_DATABASE_PATH", "x/y.db"),
            new("OCTOPUS_LOG_LEVEL", "debug"),
            new("OCTOPUS_SERVER_MAX_BODY_MB", "5"),
        ]);
        Assert.Equal(18555, config.Port);
        Assert.Equal("postgres", config.DatabaseType);
        Assert.Equal("x/y.db", config.DatabasePath);
        Assert.Equal("debug", config.LogLevel);
        Assert.Equal(5, config.MaxBodyMb);
    }

    [Fact]
    public void File_values_are_read_and_env_wins_over_them()
    {
        File.WriteAllText(PathOf("c.json"), """{"server":{"port":9000,"host":"127.0.0.1"},"log":{"level":"warn"}}""");
        var config = ConfigLoader.Load(PathOf("c.json"), [new("OCTOPUS_SERVER_PORT", "9001")]);
        Assert.Equal(9001, config.Port);
        Assert.Equal("127.0.0.1", config.Host);
        Assert.Equal("warn", config.LogLevel);
    }

    [Theory]
    [InlineData("""{"server":{"port":70000}}""", "server.port")]
    [InlineData("""{"database":{"type":"oracle"}}""", "database.type")]
    [InlineData("""{"server":{"port":"abc"}}""", "server.port")]
    [InlineData("""{"log":{"level":"loud"}}""", "log.level")]
    [InlineData("""{"server":{"prot":1}}""", "server.prot")]
    [InlineData("""{"server":{"port":80""", "not valid JSON")]
    [InlineData("""[1,2]""", "JSON object")]
    public void Bad_file_values_name_the_key_in_one_line(string json, string expected)
    {
        File.WriteAllText(PathOf("c.json"), json);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(PathOf("c.json"), NoEnv));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("OCTOPUS_SERVER_PORT", "70000", "1 to 65535")]
    [InlineData("OCTOPUS_DATABASE_TYPE", "oracle", "sqlite, postgres, mysql")]
    public void Bad_env_values_name_the_variable(string name, string value, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(PathOf("c.json"), [new(name, value)]));
        Assert.Contains(name, e.Message);
        Assert.Contains(allowed, e.Message);
    }

    [Fact]
    public void Postgres_without_url_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(PathOf("c.json"), [new("OCTOPUS_DATABASE_TYPE", "postgres")]));
        Assert.Contains("database.url", e.Message);
    }

    [Fact]
    public void Example_file_documents_every_key_and_loads()
    {
        var example = Path.Combine(RepoRoot(), "config.json.example");
        foreach (var key in ConfigKeys.All)
            Assert.Contains($"\"{key.Name}\"", File.ReadAllText(example));
        var config = ConfigLoader.Load(example, NoEnv);
        Assert.Equal(8080, config.Port);
    }

    internal static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Octopus.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("repo root not found");
    }
}
