using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;

namespace Octopus.Protocols.Gemini;

/// <summary>
/// Gemini's REST API accepts both camelCase and snake_case field names (proto JSON); reads try both.
/// Also usage mapping and the OpenAPI-schema normalisation for `parameters`.
/// </summary>
internal static class GeminiJson
{
    public static bool G(this JsonElement e, string camel, out JsonElement value) =>
        e.Prop(camel, out value) || SnakeOf(camel) is { } snake && e.Prop(snake, out value);

    // Every miss used to build the snake_case name anew (most chunks of a stream miss finishReason, promptFeedback,
    // thoughtSignature): the names are few, so each is made once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> SnakeNames = new(StringComparer.Ordinal);

    /// <summary>The snake_case form of a camelCase name; null when it has no capital, so is its own snake_case.</summary>
    private static string? SnakeOf(string camel) =>
        SnakeNames.GetOrAdd(camel, static c => c.AsSpan().IndexOfAnyInRange('A', 'Z') >= 0 ? Snake(c) : null);

    public static string? GStr(this JsonElement e, string camel) =>
        e.G(camel, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long? GLong(this JsonElement e, string camel) =>
        e.G(camel, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : null;

    public static bool GObj(this JsonElement e, string camel, out JsonElement value) =>
        e.G(camel, out value) && value.ValueKind == JsonValueKind.Object;

    public static JsonRead.ArrayEnumerable GArr(this JsonElement e, string camel) =>
        e.G(camel, out var v) ? v.EnumerateArrayOrEmpty() : default(JsonElement).EnumerateArrayOrEmpty();

    private static string Snake(string camel)
    {
        var sb = new StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsAsciiLetterUpper(c)) sb.Append('_').Append(char.ToLowerInvariant(c));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>promptTokenCount includes cached content (canonical convention); output adds thoughts to candidates.</summary>
    public static Usage ReadUsage(JsonElement u) => UsageOf(
        u.GLong("promptTokenCount") ?? 0, u.GLong("toolUsePromptTokenCount") ?? 0, u.GLong("candidatesTokenCount") ?? 0,
        u.GLong("cachedContentTokenCount") ?? 0, u.GLong("thoughtsTokenCount") ?? 0);

    /// <summary>Gemini's usageMetadata counts in our convention: thoughts are output, tool-use prompts are input.</summary>
    public static Usage UsageOf(long prompt, long toolUsePrompt, long candidates, long cachedContent, long thoughts) => new()
    {
        InputTokens = prompt + toolUsePrompt,
        OutputTokens = candidates + thoughts,
        CacheReadTokens = cachedContent,
        ReasoningTokens = thoughts,
    };

    public static void WriteUsage(Utf8JsonWriter w, in Usage u)
    {
        w.WriteStartObject("usageMetadata");
        w.WriteNumber("promptTokenCount", u.InputTokens);
        w.WriteNumber("candidatesTokenCount", Math.Max(0, u.OutputTokens - u.ReasoningTokens));
        w.WriteNumber("totalTokenCount", u.InputTokens + u.OutputTokens);
        if (u.CacheReadTokens > 0) w.WriteNumber("cachedContentTokenCount", u.CacheReadTokens);
        if (u.ReasoningTokens > 0) w.WriteNumber("thoughtsTokenCount", u.ReasoningTokens);
        w.WriteEndObject();
    }

    /// <summary>
    /// Gemini `parameters` use OpenAPI type names ("OBJECT", "STRING"); JSON-schema targets want lowercase.
    /// Only `type` values are rewritten; everything else, key order included, is copied as is.
    /// </summary>
    public static string NormalizeOpenApiSchema(string raw)
    {
        var bytes = Encoding.UTF8.GetBytes(raw);
        var reader = new Utf8JsonReader(bytes);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(bytes.Length);
        using (var w = new Utf8JsonWriter(buffer, JsonWrite.Options))
        {
            var lastWasTypeKey = false;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject: w.WriteStartObject(); break;
                    case JsonTokenType.EndObject: w.WriteEndObject(); break;
                    case JsonTokenType.StartArray: w.WriteStartArray(); break;
                    case JsonTokenType.EndArray: w.WriteEndArray(); break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        w.WritePropertyName(name);
                        lastWasTypeKey = name == "type";
                        continue;
                    case JsonTokenType.String:
                        var s = reader.GetString()!;
                        w.WriteStringValue(lastWasTypeKey && IsOpenApiType(s) ? s.ToLowerInvariant() : s);
                        break;
                    case JsonTokenType.Number:
                        w.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        break;
                    case JsonTokenType.True: w.WriteBooleanValue(true); break;
                    case JsonTokenType.False: w.WriteBooleanValue(false); break;
                    case JsonTokenType.Null: w.WriteNullValue(); break;
                }
                lastWasTypeKey = false;
            }
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);

        static bool IsOpenApiType(string s) => s is "STRING" or "NUMBER" or "INTEGER" or "BOOLEAN" or "ARRAY" or "OBJECT" or "NULL";
    }
}
