using System.Text.Json;
using System.Text.Json.Serialization;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>JSON columns (lists, maps, attempts, group settings), source-generated for AOT.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<RequestAttempt>))]
[JsonSerializable(typeof(GroupSettings))]
[JsonSerializable(typeof(Dictionary<string, RateLimits>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;

/// <summary>Reads and writes the JSON text columns; a damaged value reads as empty rather than failing the row.</summary>
internal static class JsonColumn
{
    public static string Write(IReadOnlyList<string> list) => JsonSerializer.Serialize(list as List<string> ?? [.. list], StorageJsonContext.Default.ListString);

    public static string Write(IReadOnlyDictionary<string, string> map) =>
        JsonSerializer.Serialize(map as Dictionary<string, string> ?? new Dictionary<string, string>(map), StorageJsonContext.Default.DictionaryStringString);

    public static string Write(IReadOnlyList<RequestAttempt> attempts) =>
        JsonSerializer.Serialize(attempts as List<RequestAttempt> ?? [.. attempts], StorageJsonContext.Default.ListRequestAttempt);

    public static void Write(Utf8JsonWriter writer, IReadOnlyList<RequestAttempt> attempts) =>
        JsonSerializer.Serialize(writer, attempts as List<RequestAttempt> ?? [.. attempts], StorageJsonContext.Default.ListRequestAttempt);

    public static string Write(GroupSettings settings) => JsonSerializer.Serialize(settings, StorageJsonContext.Default.GroupSettings);

    public static string? Write(IReadOnlyDictionary<string, RateLimits> limits) => limits.Count == 0 ? null :
        JsonSerializer.Serialize(limits as Dictionary<string, RateLimits> ?? new Dictionary<string, RateLimits>(limits), StorageJsonContext.Default.DictionaryStringRateLimits);

    public static IReadOnlyDictionary<string, RateLimits> ReadGroupLimits(string? json) =>
        Read(json, StorageJsonContext.Default.DictionaryStringRateLimits) is { Count: > 0 } d ? d : ApiKey.EmptyGroupLimits;

    public static List<string> ReadList(string? json) => Read(json, StorageJsonContext.Default.ListString) ?? [];

    public static Dictionary<string, string> ReadMap(string? json) => Read(json, StorageJsonContext.Default.DictionaryStringString) ?? [];

    public static List<RequestAttempt> ReadAttempts(string? json) => Read(json, StorageJsonContext.Default.ListRequestAttempt) ?? [];

    public static GroupSettings ReadGroupSettings(string? json) => Read(json, StorageJsonContext.Default.GroupSettings) ?? new GroupSettings();

    private static T? Read<T>(string? json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonSerializer.Deserialize(json, type); }
        catch (JsonException) { return null; }
    }
}
