using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Passthrough;

/// <summary>
/// Same-protocol request rewrite: only the `model` value is replaced (and, for OpenAI Chat streams, usage is asked
/// for). Every other byte stays as the client sent it, which keeps upstream prompt caches warm.
/// </summary>
internal static class BodyRewriter
{
    private static readonly byte[] IncludeUsage = ""","stream_options":{"include_usage":true}"""u8.ToArray();

    /// <param name="askUsage">OpenAI Chat stream whose client did not ask for usage: add stream_options.include_usage.</param>
    public static byte[] Rewrite(ApiProtocol protocol, ReadOnlySpan<byte> body, RequestInfo info, string upstreamModel, bool askUsage, string? paramOverride)
    {
        byte[] result;
        if (askUsage && info.HasStreamOptions)
        {
            // Rare: stream_options present without include_usage. Edit it structurally.
            var node = Parse(body);
            node["stream_options"] = node["stream_options"] is JsonObject so ? so : new JsonObject();
            ((JsonObject)node["stream_options"]!)["include_usage"] = true;
            if (protocol != ApiProtocol.Gemini) node["model"] = upstreamModel;
            result = ToBytes(node);
        }
        else
        {
            var w = new ArrayBufferWriter<byte>(body.Length + upstreamModel.Length + 48);
            var modelRange = protocol == ApiProtocol.Gemini || info.Model is null ? default : info.ModelRange;
            var (start, end) = (modelRange.Start.Value, modelRange.End.Value);
            if (end > start)
            {
                w.Write(body[..start]);
                WriteJsonString(w, upstreamModel);
                if (askUsage)
                {
                    w.Write(body[end..info.ObjectEnd]);
                    w.Write(IncludeUsage);
                    w.Write(body[info.ObjectEnd..]);
                }
                else w.Write(body[end..]);
            }
            else if (askUsage)
            {
                w.Write(body[..info.ObjectEnd]);
                w.Write(IncludeUsage);
                w.Write(body[info.ObjectEnd..]);
            }
            else w.Write(body);
            result = w.WrittenSpan.ToArray();
        }

        return string.IsNullOrWhiteSpace(paramOverride) ? result : ApplyOverride(result, paramOverride);
    }

    /// <summary>Merges the channel's JSON object into the body: top-level keys replace, null removes.</summary>
    public static byte[] ApplyOverride(ReadOnlySpan<byte> body, string paramOverride)
    {
        var node = Parse(body);
        if (JsonNode.Parse(paramOverride) is not JsonObject over) return body.ToArray();
        foreach (var (key, value) in over)
        {
            if (value is null) node.Remove(key);
            else node[key] = value.DeepClone();
        }
        return ToBytes(node);
    }

    private static JsonObject Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new ProtocolException("request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new ProtocolException($"request body is not valid JSON: {e.Message}");
        }
    }

    private static byte[] ToBytes(JsonNode node)
    {
        var w = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(w, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            node.WriteTo(writer);
        return w.WrittenSpan.ToArray();
    }

    private static void WriteJsonString(ArrayBufferWriter<byte> w, string value)
    {
        using var writer = new Utf8JsonWriter(w, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStringValue(value);
    }
}
