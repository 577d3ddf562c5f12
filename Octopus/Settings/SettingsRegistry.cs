using System.Globalization;
using System.Text.Json;
using Octopus.Admin;
using Octopus.Storage;

namespace Octopus.Settings;

internal enum SettingKind
{
    Int,
    Choice,
    Text,
    TextList,
}

/// <summary>
/// One runtime setting: its name (as in the API and the `settings` table), kind, default (stored text form) and
/// rules. <see cref="Check"/> validates a stored-form value and returns the problem or null.
/// </summary>
internal sealed record SettingDefinition(string Name, SettingKind Kind, string Default, string Description)
{
    public long Min { get; init; }
    public long Max { get; init; } = long.MaxValue;
    public string[] Choices { get; init; } = [];
    /// <summary>Extra rule for Text / each TextList item; returns the problem or null.</summary>
    public Func<string, string?>? Rule { get; init; }
    /// <summary>Set for settings that hold a secret: how the admin API shows the value.</summary>
    public Func<string, string>? Mask { get; init; }

    public string? Check(string stored)
    {
        switch (Kind)
        {
            case SettingKind.Int:
                if (!long.TryParse(stored, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return "must be an integer";
                return n < Min || n > Max ? $"must be an integer from {Min} to {Max}" : null;
            case SettingKind.Choice:
                return Choices.Contains(stored) ? null : "must be one of " + string.Join(", ", Choices);
            case SettingKind.Text:
                return Rule?.Invoke(stored);
            default:
                List<string>? items;
                try { items = JsonSerializer.Deserialize(stored, StorageJsonContext.Default.ListString); }
                catch (JsonException) { return "must be an array of strings"; }
                if (items is null) return "must be an array of strings";
                foreach (var item in items)
                    if (Rule?.Invoke(item) is { } p) return $"'{item}' {p}";
                return null;
        }
    }
}

/// <summary>Typed view of the current settings, for every feature that reads them.</summary>
internal sealed record OctopusSettings
{
    public int StatsSaveIntervalMinutes { get; init; }
    public int LogRetentionDays { get; init; }
    /// <summary>off | errors | sampled | all</summary>
    public string BodyCapture { get; init; } = "off";
    public int BodySamplePercent { get; init; }
    public int BodyMaxBytes { get; init; }
    public int BodyRetentionDays { get; init; }
    /// <summary>0 = price sync off.</summary>
    public int PriceSyncIntervalHours { get; init; }
    public string PriceSourceUrl { get; init; } = "";
    /// <summary>0 = automatic model sync off.</summary>
    public int ModelSyncIntervalHours { get; init; }
    public IReadOnlyList<string> CorsAllowOrigins { get; init; } = [];
    /// <summary>Global upstream proxy URL; "" = none.</summary>
    public string Proxy { get; init; } = "";
    /// <summary>Failure notification webhook; "" = off.</summary>
    public string NotifyWebhookUrl { get; init; } = "";
    /// <summary>generic | feishu | matrix</summary>
    public string NotifyWebhookFormat { get; init; } = "generic";
    public int NotifyIntervalMinutes { get; init; }
    public int NotifyMaxPerHour { get; init; }
}

/// <summary>
/// Every runtime setting in one table: names, defaults and validation. The admin API, the backup import and all
/// readers (relay, stats, cleanup, price sync) go through it; values live in the `settings` table as text.
/// </summary>
internal static class SettingsRegistry
{
    public const string DefaultPriceSourceUrl = "https://models.dev/api.json";

    public static readonly SettingDefinition[] All =
    [
        new("stats_save_interval", SettingKind.Int, "1", "minutes between stats flushes to the database") { Min = 1, Max = 60 },
        new("log_retention_days", SettingKind.Int, "30", "days request logs are kept (0 = forever)") { Min = 0, Max = 3650 },
        new("body_capture", SettingKind.Choice, "off", "which request/response bodies are stored") { Choices = ["off", "errors", "sampled", "all"] },
        new("body_sample_percent", SettingKind.Int, "10", "percent of requests whose bodies are stored when body_capture is sampled") { Min = 0, Max = 100 },
        new("body_max_bytes", SettingKind.Int, "65536", "largest body stored per request and direction, in bytes") { Min = 0, Max = 16 * 1024 * 1024 },
        new("body_retention_days", SettingKind.Int, "3", "days captured bodies are kept (0 = as long as their log)") { Min = 0, Max = 3650 },
        new("price_sync_interval_hours", SettingKind.Int, "24", "hours between price syncs (0 = off)") { Min = 0, Max = 8760 },
        new("price_source_url", SettingKind.Text, DefaultPriceSourceUrl, "models.dev-style JSON with per-model costs")
        {
            Rule = v => JsonInput.IsHttpUrl(v) ? null : "must be an absolute http or https URL",
        },
        new("model_sync_interval_hours", SettingKind.Int, "24", "hours between model syncs of channels with auto_sync (0 = off)") { Min = 0, Max = 8760 },
        new("cors_allow_origins", SettingKind.TextList, "[]", "origins allowed to call the admin API from a browser (empty = CORS off)")
        {
            Rule = v => v == "*" || (JsonInput.IsHttpUrl(v) && new Uri(v).PathAndQuery == "/" && !v.Contains('#'))
                ? null : "must be an origin like https://admin.example.com or *",
        },
        new("proxy", SettingKind.Text, "", "global upstream proxy (http://, https:// or socks5://); empty = direct")
        {
            Rule = v => v.Length == 0 || JsonInput.IsProxyUrl(v) ? null : "must be empty or an http://, https:// or socks5:// URL",
            Mask = KeyMask.MaskCredentials,
        },
        new("notify_webhook_url", SettingKind.Text, "", "webhook called when a key or channel is set aside or a whole group fails; empty = off")
        {
            Rule = v => v.Length == 0 || JsonInput.IsHttpUrl(v) ? null : "must be empty or an absolute http or https URL",
            Mask = KeyMask.MaskPath,
        },
        new("notify_webhook_format", SettingKind.Choice, "generic", "body of the failure webhook") { Choices = ["generic", "feishu", "matrix"] },
        new("notify_interval_minutes", SettingKind.Int, "10", "at most one notice per event and subject in this many minutes") { Min = 1, Max = 1440 },
        new("notify_max_per_hour", SettingKind.Int, "20", "at most this many notices per hour in all") { Min = 1, Max = 1000 },
    ];

    public static SettingDefinition? Find(string name) => All.FirstOrDefault(d => d.Name == name);

    /// <summary>Stored values with defaults filled in; unknown or invalid stored values fall back to the default.</summary>
    public static Dictionary<string, string> WithDefaults(IReadOnlyDictionary<string, string> stored)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in All)
            result[d.Name] = stored.TryGetValue(d.Name, out var v) && d.Check(v) is null ? v : d.Default;
        return result;
    }

    public static OctopusSettings Parse(IReadOnlyDictionary<string, string> stored)
    {
        var v = WithDefaults(stored);
        int I(string name) => (int)long.Parse(v[name], CultureInfo.InvariantCulture);
        return new OctopusSettings
        {
            StatsSaveIntervalMinutes = I("stats_save_interval"),
            LogRetentionDays = I("log_retention_days"),
            BodyCapture = v["body_capture"],
            BodySamplePercent = I("body_sample_percent"),
            BodyMaxBytes = I("body_max_bytes"),
            BodyRetentionDays = I("body_retention_days"),
            PriceSyncIntervalHours = I("price_sync_interval_hours"),
            PriceSourceUrl = v["price_source_url"],
            ModelSyncIntervalHours = I("model_sync_interval_hours"),
            CorsAllowOrigins = JsonColumn.ReadList(v["cors_allow_origins"]),
            Proxy = v["proxy"],
            NotifyWebhookUrl = v["notify_webhook_url"],
            NotifyWebhookFormat = v["notify_webhook_format"],
            NotifyIntervalMinutes = I("notify_interval_minutes"),
            NotifyMaxPerHour = I("notify_max_per_hour"),
        };
    }

    /// <summary>Reads one setting from a JSON value into its stored form; returns the problem or null.</summary>
    public static string? FromJson(SettingDefinition d, JsonElement value, out string stored)
    {
        stored = "";
        switch (d.Kind)
        {
            case SettingKind.Int:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n)) return "must be an integer";
                stored = n.ToString(CultureInfo.InvariantCulture);
                break;
            case SettingKind.Choice or SettingKind.Text:
                if (value.ValueKind != JsonValueKind.String) return "must be a string";
                stored = value.GetString()!.Trim();
                break;
            default:
                if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                    return "must be an array of strings";
                stored = JsonColumn.Write(value.EnumerateArray().Select(e => e.GetString()!.Trim()).ToList());
                break;
        }
        return d.Check(stored);
    }

    /// <summary>Writes one setting's stored value as JSON (number, string or array); secrets masked.</summary>
    public static void WriteJson(Utf8JsonWriter w, SettingDefinition d, string stored)
    {
        switch (d.Kind)
        {
            case SettingKind.Int:
                w.WriteNumber(d.Name, long.Parse(stored, CultureInfo.InvariantCulture));
                break;
            case SettingKind.TextList:
                w.WriteStartArray(d.Name);
                foreach (var item in JsonColumn.ReadList(stored)) w.WriteStringValue(item);
                w.WriteEndArray();
                break;
            default:
                w.WriteString(d.Name, d.Mask is { } mask ? mask(stored) : stored);
                break;
        }
    }
}
