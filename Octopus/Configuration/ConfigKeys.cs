using System.Text.Json;

namespace Octopus.Configuration;

/// <summary>
/// Every configuration key, its default, how to parse it and what is allowed. One table drives the config file,
/// the OCTOPUS_* overrides, the generated default file and the error messages.
/// </summary>
internal static class ConfigKeys
{
    internal sealed record Key(string Path, string Allowed, Func<OctopusConfig, object> Get, Func<OctopusConfig, string, string?> Set)
    {
        /// <summary>server.max_body_mb → OCTOPUS_SERVER_MAX_BODY_MB</summary>
        public string EnvName { get; } = "OCTOPUS_" + Path.Replace('.', '_').ToUpperInvariant();
        public string Section => Path[..Path.IndexOf('.')];
        public string Name => Path[(Path.IndexOf('.') + 1)..];
    }

    public static readonly string[] DatabaseTypes = ["sqlite", "postgres", "mysql"];
    public static readonly string[] LogLevels = ["debug", "info", "warn", "error"];

    public static readonly Key[] All =
    [
        new("server.host", "an IP address or host name", c => c.Host, (c, v) =>
        {
            if (string.IsNullOrWhiteSpace(v) || v.Any(char.IsWhiteSpace)) return "must be an IP address or host name";
            c.Host = v; return null;
        }),
        new("server.port", "an integer 1-65535", c => c.Port, (c, v) => SetInt(v, 1, 65535, x => c.Port = x)),
        new("server.max_body_mb", "an integer 1-1024 (MiB)", c => c.MaxBodyMb, (c, v) => SetInt(v, 1, 1024, x => c.MaxBodyMb = x)),
        new("server.shutdown_timeout_seconds", "an integer 1-600", c => c.ShutdownTimeoutSeconds, (c, v) => SetInt(v, 1, 600, x => c.ShutdownTimeoutSeconds = x)),
        new("server.inline_scheduling", "true or false", c => c.InlineScheduling, (c, v) =>
        {
            if (!bool.TryParse(v.Trim(), out var b)) return "must be true or false";
            c.InlineScheduling = b; return null;
        }),
        new("server.inline_completions", "true or false", c => c.InlineCompletions, (c, v) =>
        {
            if (!bool.TryParse(v.Trim(), out var b)) return "must be true or false";
            c.InlineCompletions = b; return null;
        }),
        new("database.type", "sqlite, postgres or mysql", c => c.DatabaseType, (c, v) =>
        {
            var t = v.Trim().ToLowerInvariant();
            if (t is "postgresql" or "pg") t = "postgres";
            if (t is "mariadb") t = "mysql";
            if (!DatabaseTypes.Contains(t)) return "must be one of sqlite, postgres, mysql";
            c.DatabaseType = t; return null;
        }),
        new("database.path", "a file path (sqlite)", c => c.DatabasePath, (c, v) =>
        {
            if (string.IsNullOrWhiteSpace(v)) return "must be a file path";
            c.DatabasePath = v; return null;
        }),
        new("database.url", "a connection URL or string (postgres, mysql)", c => c.DatabaseUrl, (c, v) => { c.DatabaseUrl = v; return null; }),
        new("log.level", "debug, info, warn or error", c => c.LogLevel, (c, v) =>
        {
            var l = v.Trim().ToLowerInvariant();
            if (l == "warning") l = "warn";
            if (!LogLevels.Contains(l)) return "must be one of debug, info, warn, error";
            c.LogLevel = l; return null;
        }),
        new("admin.password", "a string (used on first start only)", c => c.AdminPassword, (c, v) => { c.AdminPassword = v; return null; }),
        new("stats.enabled", "true or false", c => c.StatsEnabled, (c, v) =>
        {
            if (!bool.TryParse(v.Trim(), out var b)) return "must be true or false";
            c.StatsEnabled = b; return null;
        }),
        new("metrics.token", "a string (empty: /metrics needs no token)", c => c.MetricsToken, (c, v) => { c.MetricsToken = v; return null; }),
    ];

    private static string? SetInt(string v, int min, int max, Action<int> set)
    {
        if (!int.TryParse(v.Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var x) || x < min || x > max)
            return $"must be an integer from {min} to {max}";
        set(x);
        return null;
    }

    /// <summary>Writes the defaults as an indented JSON object grouped by section.</summary>
    public static byte[] DefaultFile()
    {
        var defaults = new OctopusConfig();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var section in All.GroupBy(k => k.Section))
            {
                w.WriteStartObject(section.Key);
                foreach (var key in section)
                {
                    switch (key.Get(defaults))
                    {
                        case int i: w.WriteNumber(key.Name, i); break;
                        case string s: w.WriteString(key.Name, s); break;
                        case bool b: w.WriteBoolean(key.Name, b); break;
                    }
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }
}
