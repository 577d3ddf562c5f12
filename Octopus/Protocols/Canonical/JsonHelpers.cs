using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Octopus.Protocols.Canonical;

/// <summary>Kind-checked reads from <see cref="JsonElement"/>: a wrong kind reads as absent, never throws.</summary>
internal static class JsonRead
{
    public static bool Prop(this JsonElement e, string name, out JsonElement value)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out value)) return true;
        value = default;
        return false;
    }

    public static string? Str(this JsonElement e, string name) =>
        e.Prop(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long? Long(this JsonElement e, string name)
    {
        if (!e.Prop(name, out var v) || v.ValueKind != JsonValueKind.Number) return null;
        if (v.TryGetInt64(out var l)) return l;
        return v.TryGetDouble(out var d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null;
    }

    public static double? Double(this JsonElement e, string name) =>
        e.Prop(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? d : null;

    public static bool? Bool(this JsonElement e, string name) =>
        e.Prop(name, out var v) ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } : null;

    public static bool Obj(this JsonElement e, string name, out JsonElement value) =>
        e.Prop(name, out value) && value.ValueKind == JsonValueKind.Object;

    public static ArrayEnumerable Arr(this JsonElement e, string name) =>
        new(e.Prop(name, out var v) && v.ValueKind == JsonValueKind.Array ? v : default);

    /// <summary>The property's raw JSON text when it is an object (schemas, tool inputs).</summary>
    public static string? RawObject(this JsonElement e, string name) =>
        e.Obj(name, out var v) ? v.GetRawText() : null;

    public static ArrayEnumerable EnumerateArrayOrEmpty(this JsonElement e) => new(e);

    public static string? AsString(this JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    /// <summary>Enumerates an array, or nothing when the element is not an array.</summary>
    internal readonly struct ArrayEnumerable(JsonElement array)
    {
        public IEnumerator<JsonElement> GetEnumerator()
        {
            if (array.ValueKind != JsonValueKind.Array) yield break;
            foreach (var item in array.EnumerateArray()) yield return item;
        }

        public int Count => array.ValueKind == JsonValueKind.Array ? array.GetArrayLength() : 0;
    }

    /// <summary>Parses a body; malformed JSON is a <see cref="ProtocolException"/>.</summary>
    public static JsonDocument Parse(ReadOnlySpan<byte> body, string what)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new Conversion.ProtocolException($"Malformed {what}: {ex.Message}");
        }
    }

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    /// <summary>
    /// As <see cref="Parse(ReadOnlySpan{byte}, string)"/>, but the document reads <paramref name="body"/> in place
    /// instead of copying it (a stream event's bytes stay put while its document lives).
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body, string what)
    {
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new Conversion.ProtocolException($"Malformed {what}: {ex.Message}");
        }
    }

    /// <summary>True when <paramref name="json"/> is a JSON object (tool arguments that an object-typed field needs).</summary>
    public static bool IsJsonObject(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="json"/> is any single valid JSON value.</summary>
    public static bool IsJson(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Steps of the single-pass readers that stream decoders and the passthrough observer use on common events.</summary>
internal static class JsonReaderSteps
{
    /// <summary>Moves past the value that follows the current property name.</summary>
    public static void SkipValue(this ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    /// <summary>Reads the value that follows the current property name: true when it is null.</summary>
    public static bool NextIsNull(this ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.Null;

    /// <summary>True when the root object has just ended and nothing but whitespace follows it.</summary>
    public static bool EndsDocument(this ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.EndObject && !reader.Read();
}

/// <summary>Shared writer settings: compact, non-ASCII and markup written as-is (smaller, and byte-stable).</summary>
internal static class JsonWrite
{
    public static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    public static byte[] ToBytes(Action<Utf8JsonWriter> write, int sizeHint = 1024)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(buffer, Options)) write(w);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes tool arguments where an object is required; anything else becomes `{}`.</summary>
    public static void ArgumentsObject(this Utf8JsonWriter w, string propertyName, string arguments)
    {
        w.WritePropertyName(propertyName);
        if (!string.IsNullOrWhiteSpace(arguments) && JsonRead.IsJsonObject(arguments))
        {
            w.WriteRawValue(arguments, skipInputValidation: true);
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(arguments)) Conversion.ConversionLog.Dropped("tool arguments that are not a JSON object");
            w.WriteStartObject();
            w.WriteEndObject();
        }
    }

    public static void Raw(this Utf8JsonWriter w, string propertyName, string rawJson)
    {
        w.WritePropertyName(propertyName);
        w.WriteRawValue(rawJson, skipInputValidation: true);
    }

    public static void StringOrNull(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }
}

/// <summary>`data:` URL helpers for images and files.</summary>
internal static class DataUrl
{
    public static bool TryParse(string? url, out string mediaType, out string data)
    {
        mediaType = "";
        data = "";
        if (url is null || !url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return false;
        var comma = url.IndexOf(',');
        if (comma < 0) return false;
        var meta = url.AsSpan(5, comma - 5);
        var semi = meta.IndexOf(';');
        mediaType = (semi < 0 ? meta : meta[..semi]).ToString();
        if (!meta.EndsWith(";base64", StringComparison.OrdinalIgnoreCase)) return false;
        data = url[(comma + 1)..];
        return true;
    }
}

internal static class Ids
{
    public static string New(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];
}
