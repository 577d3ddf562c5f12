using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Embeddings;

/// <summary>
/// OpenAI `/v1/embeddings` ⇄ Gemini `:embedContent` / `:batchEmbedContents`, both directions. Vectors are copied
/// number by number from the upstream's JSON, so no precision is lost on the way.
/// </summary>
internal static class EmbeddingsCodec
{
    /// <summary>OpenAI embeddings request → Gemini batchEmbedContents (one request per input string).</summary>
    public static byte[] OpenAIToGemini(ReadOnlySpan<byte> body, string upstreamModel)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        if (!root.TryGetProperty("input", out var input)) throw new ProtocolException("`input` is required");
        var texts = new List<string>();
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(input.GetString()!);
                break;
            case JsonValueKind.Array:
                foreach (var item in input.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw new ProtocolException("`input` as token arrays cannot be sent to a Gemini channel: send text");
                    texts.Add(item.GetString()!);
                }
                break;
            default:
                throw new ProtocolException("`input` must be a string or an array of strings");
        }
        if (texts.Count == 0) throw new ProtocolException("`input` must not be empty");
        long? dimensions = root.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt64() : null;

        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("requests");
            foreach (var text in texts)
            {
                w.WriteStartObject();
                w.WriteString("model", "models/" + upstreamModel);
                w.WriteStartObject("content");
                w.WriteStartArray("parts");
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                if (dimensions is { } n) w.WriteNumber("outputDimensionality", n);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Gemini embeddings reply (single or batch) → OpenAI embeddings reply, floats or base64 as the client asked.</summary>
    public static (byte[] Body, Usage Usage) GeminiToOpenAIResponse(ReadOnlySpan<byte> body, string clientModel, bool base64)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        var vectors = new List<JsonElement>();
        if (root.TryGetProperty("embeddings", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in list.EnumerateArray()) vectors.Add(Values(e));
        }
        else if (root.TryGetProperty("embedding", out var one)) vectors.Add(Values(one));
        else throw new ProtocolException("Gemini reply has no `embeddings`");

        // Newer Gemini replies carry usageMetadata; older ones report nothing.
        var tokens = root.TryGetProperty("usageMetadata", out var um) && um.TryGetProperty("promptTokenCount", out var pt) && pt.TryGetInt64(out var t) ? t : 0;
        var bytes = Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < vectors.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                w.WritePropertyName("embedding");
                if (base64) w.WriteStringValue(ToBase64(vectors[i]));
                else CopyNumbers(w, vectors[i]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", clientModel);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", tokens);
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return (bytes, new Usage { InputTokens = tokens });
    }

    /// <summary>Gemini embedContent / batchEmbedContents request → OpenAI embeddings request (float vectors).</summary>
    public static byte[] GeminiToOpenAI(ReadOnlySpan<byte> body, string upstreamModel, bool batch)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        var texts = new List<string>();
        long? dimensions = null;
        if (batch)
        {
            if (!root.TryGetProperty("requests", out var reqs) || reqs.ValueKind != JsonValueKind.Array || reqs.GetArrayLength() == 0)
                throw new ProtocolException("`requests` must be a non-empty array");
            foreach (var req in reqs.EnumerateArray())
            {
                texts.Add(Text(req));
                dimensions ??= Dimensions(req);
            }
        }
        else
        {
            texts.Add(Text(root));
            dimensions = Dimensions(root);
        }

        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", upstreamModel);
            w.WriteStartArray("input");
            foreach (var t in texts) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteString("encoding_format", "float");
            if (dimensions is { } n) w.WriteNumber("dimensions", n);
            w.WriteEndObject();
        });
    }

    /// <summary>OpenAI embeddings reply → Gemini `{"embedding":{...}}` or `{"embeddings":[...]}`.</summary>
    public static (byte[] Body, Usage Usage) OpenAIToGeminiResponse(ReadOnlySpan<byte> body, bool batch)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("OpenAI reply has no `data`");
        var items = data.EnumerateArray()
            .OrderBy(e => e.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0)
            .Select(e => e.TryGetProperty("embedding", out var v) ? v : throw new ProtocolException("OpenAI reply item has no `embedding`"))
            .ToList();
        var usage = root.TryGetProperty("usage", out var u) ? Passthrough.UsageJson.FromOpenAIChat(u) : default;

        var bytes = Write(w =>
        {
            w.WriteStartObject();
            if (batch)
            {
                w.WriteStartArray("embeddings");
                foreach (var v in items) WriteGeminiEmbedding(w, v);
                w.WriteEndArray();
            }
            else
            {
                if (items.Count == 0) throw new ProtocolException("OpenAI reply has no embedding");
                w.WritePropertyName("embedding");
                WriteGeminiEmbedding(w, items[0]);
            }
            w.WriteEndObject();
        });
        return (bytes, usage);
    }

    /// <summary>Gemini passthrough: the group name in each request's `model` becomes the upstream model.</summary>
    public static byte[] RewriteGeminiModels(ReadOnlySpan<byte> body, string upstreamModel, bool batch)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(body); }
        catch (JsonException e) { throw new ProtocolException("request body is not valid JSON: " + e.Message); }
        if (node is not JsonObject root) throw new ProtocolException("request body must be a JSON object");
        var model = "models/" + upstreamModel;
        if (batch)
        {
            if (root["requests"] is not JsonArray reqs || reqs.Count == 0) throw new ProtocolException("`requests` must be a non-empty array");
            foreach (var r in reqs)
                if (r is JsonObject o) o["model"] = model;
        }
        else if (root.ContainsKey("model")) root["model"] = model;
        else return body.ToArray(); // nothing names the model: the bytes go as sent
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>Usage the upstream reported for an embeddings reply in its own protocol.</summary>
    public static Usage ReadUsage(ApiProtocol upstream, ReadOnlySpan<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (upstream == ApiProtocol.Gemini)
                return root.TryGetProperty("usageMetadata", out var um) && um.TryGetProperty("promptTokenCount", out var pt) && pt.TryGetInt64(out var t)
                    ? new Usage { InputTokens = t } : default;
            return root.TryGetProperty("usage", out var u) ? Passthrough.UsageJson.FromOpenAIChat(u) : default;
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static void WriteGeminiEmbedding(Utf8JsonWriter w, JsonElement vector)
    {
        w.WriteStartObject();
        w.WritePropertyName("values");
        if (vector.ValueKind == JsonValueKind.String) WriteFromBase64(w, vector.GetString()!);
        else CopyNumbers(w, vector);
        w.WriteEndObject();
    }

    private static string Text(JsonElement req)
    {
        if (!req.TryGetProperty("content", out var content) || !content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("`content.parts` is required");
        var texts = new List<string>();
        foreach (var p in parts.EnumerateArray())
        {
            if (p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) texts.Add(t.GetString()!);
            else throw new ProtocolException("only text parts can be embedded through an OpenAI-compatible channel");
        }
        if (texts.Count == 0) throw new ProtocolException("`content.parts` must not be empty");
        return string.Join("\n", texts);
    }

    private static long? Dimensions(JsonElement req) =>
        req.TryGetProperty("outputDimensionality", out var d) && d.TryGetInt64(out var n) ? n
        : req.TryGetProperty("output_dimensionality", out d) && d.TryGetInt64(out n) ? n : null;

    private static JsonElement Values(JsonElement embedding) =>
        embedding.TryGetProperty("values", out var v) && v.ValueKind == JsonValueKind.Array ? v : throw new ProtocolException("Gemini embedding has no `values`");

    private static void CopyNumbers(Utf8JsonWriter w, JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new ProtocolException("embedding must be an array of numbers");
        w.WriteStartArray();
        foreach (var x in array.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number) throw new ProtocolException("embedding must be an array of numbers");
            w.WriteRawValue(x.GetRawText(), skipInputValidation: true);
        }
        w.WriteEndArray();
    }

    /// <summary>OpenAI's base64 encoding: the vector as little-endian float32.</summary>
    private static string ToBase64(JsonElement array)
    {
        var floats = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var x in array.EnumerateArray()) floats[i++] = x.GetSingle();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian host");
        return Convert.ToBase64String(MemoryMarshal.AsBytes(floats.AsSpan()));
    }

    private static void WriteFromBase64(Utf8JsonWriter w, string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        var floats = MemoryMarshal.Cast<byte, float>(bytes);
        w.WriteStartArray();
        foreach (var f in floats) w.WriteNumberValue(f);
        w.WriteEndArray();
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        try { return JsonDocument.Parse(body.ToArray()); }
        catch (JsonException e) { throw new ProtocolException("body is not valid JSON: " + e.Message); }
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return buffer.WrittenSpan.ToArray();
    }
}
