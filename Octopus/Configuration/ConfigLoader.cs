using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Octopus.Configuration;

/// <summary>A configuration problem the user must fix; its message is one line naming the key or file.</summary>
internal sealed class ConfigException(string message) : Exception(message);

internal static class ConfigLoader
{
    public const string DefaultPath = "data/config.json";

    /// <summary>
    /// Reads the file (writing it with defaults when missing), then applies OCTOPUS_* overrides.
    /// Keys join with single underscores (OCTOPUS_SERVER_PORT), unlike the default provider's `__`.
    /// </summary>
    public static OctopusConfig Load(string? path, IEnumerable<KeyValuePair<string, string?>>? environment = null)
    {
        path ??= DefaultPath;
        var config = new OctopusConfig { SourcePath = path };

        if (!File.Exists(path))
        {
            try
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(path));
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                File.WriteAllBytes(path, ConfigKeys.DefaultFile());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException($"cannot write default config file {path}: {e.Message}");
            }
        }
        else
        {
            ApplyFile(config, path);
        }

        environment ??= new ConfigurationBuilder().AddEnvironmentVariables("OCTOPUS_").Build().AsEnumerable()
            .Select(kv => new KeyValuePair<string, string?>("OCTOPUS_" + kv.Key, kv.Value));
        var env = environment.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key.ToUpperInvariant(), kv => kv.Value!);
        foreach (var key in ConfigKeys.All)
        {
            if (env.TryGetValue(key.EnvName, out var value) && key.Set(config, value) is { } problem)
                throw new ConfigException($"environment variable {key.EnvName}={Quote(value)} {problem}");
        }

        if (config.DatabaseType != "sqlite" && string.IsNullOrWhiteSpace(config.DatabaseUrl))
            throw new ConfigException($"database.url must be set when database.type is {config.DatabaseType} (in {path} or OCTOPUS_DATABASE_URL)");
        return config;
    }

    private static void ApplyFile(OctopusConfig config, string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read config file {path}: {e.Message}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigException($"config file {path} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): fix or delete it to regenerate defaults");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException($"config file {path} must hold a JSON object like {{\"server\":{{\"port\":8080}}}}");
            foreach (var section in doc.RootElement.EnumerateObject())
            {
                if (section.Value.ValueKind != JsonValueKind.Object)
                    throw new ConfigException($"config file {path}: \"{section.Name}\" must be an object of settings");
                foreach (var item in section.Value.EnumerateObject())
                {
                    var keyPath = section.Name + "." + item.Name;
                    var key = ConfigKeys.All.FirstOrDefault(k => k.Path == keyPath)
                        ?? throw new ConfigException($"config file {path}: unknown key {keyPath}; known keys: {string.Join(", ", ConfigKeys.All.Select(k => k.Path))}");
                    var text = item.Value.ValueKind switch
                    {
                        JsonValueKind.String => item.Value.GetString()!,
                        JsonValueKind.Number => item.Value.GetRawText(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => null,
                    };
                    var problem = text is null ? "must be a string or number" : key.Set(config, text);
                    if (problem is not null)
                        throw new ConfigException($"config file {path}: {keyPath}={item.Value.GetRawText()} {problem} (allowed: {key.Allowed})");
                }
            }
        }
    }

    private static string Quote(string v) => v.Length > 60 ? "\"" + v[..60] + "…\"" : "\"" + v + "\"";
}
