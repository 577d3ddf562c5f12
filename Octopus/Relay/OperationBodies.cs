using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Embeddings;
using Octopus.Protocols.Passthrough;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

/// <summary>
/// Request and reply bodies of the non-generation operations (embeddings, images). OpenAI-style clients and
/// channels pass bytes through with only the model rewritten; Gemini embeddings are converted to and from OpenAI's.
/// </summary>
internal static class OperationBodies
{
    /// <summary>Same wire family on both sides (OpenAI-style ⇄ OpenAI-style, Gemini ⇄ Gemini): no conversion.</summary>
    public static bool Passthrough(RelayRequest r, ApiProtocol upstream) => (r.Protocol == ApiProtocol.Gemini) == (upstream == ApiProtocol.Gemini);

    /// <summary>Gemini upstream action: batchEmbedContents unless a Gemini client sent one embedContent.</summary>
    public static bool GeminiBatch(RelayRequest r) => r.Protocol != ApiProtocol.Gemini || r.GeminiBatch;

    public static byte[] BuildRequest(RelayRequest r, Channel channel, string upstreamModel)
    {
        var upstream = channel.Type.ProtocolOf();
        if (Passthrough(r, upstream))
        {
            return r.Protocol == ApiProtocol.Gemini
                ? Override(EmbeddingsCodec.RewriteGeminiModels(r.Body, upstreamModel, r.GeminiBatch), channel)
                : BodyRewriter.Rewrite(ApiProtocol.OpenAIChat, r.Body, r.Info, upstreamModel, askUsage: false, channel.ParamOverride);
        }
        if (r.Operation != RelayOperation.Embeddings) throw new ProtocolException($"channel '{channel.Name}' cannot serve this request");
        var converted = r.Protocol == ApiProtocol.Gemini
            ? EmbeddingsCodec.GeminiToOpenAI(r.Body, upstreamModel, r.GeminiBatch)
            : EmbeddingsCodec.OpenAIToGemini(r.Body, upstreamModel);
        return Override(converted, channel);
    }

    /// <summary>The client's body and the usage the upstream reported.</summary>
    public static (byte[] Body, Usage Usage) ReadResponse(RelayRequest r, ApiProtocol upstream, byte[] body)
    {
        if (Passthrough(r, upstream))
            return (body, r.Operation == RelayOperation.Images ? ImageUsage(body) : EmbeddingsCodec.ReadUsage(upstream, body));
        return r.Protocol == ApiProtocol.Gemini
            ? EmbeddingsCodec.OpenAIToGeminiResponse(body, r.GeminiBatch)
            : EmbeddingsCodec.GeminiToOpenAIResponse(body, r.RequestedModel!, WantsBase64(r.Body));
    }

    /// <summary>GPT image models report token usage (input_tokens / output_tokens); DALL·E reports none. The image
    /// count comes from `data`, for per-image prices.</summary>
    private static Usage ImageUsage(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var usage = root.TryGetProperty("usage", out var u) ? UsageJson.FromResponses(u) : default;
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array) usage.Images = data.GetArrayLength();
            return usage;
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>The OpenAI SDKs ask for base64 vectors by default and decode them themselves.</summary>
    private static bool WantsBase64(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("encoding_format", out var f) && f.ValueKind == JsonValueKind.String && f.ValueEquals("base64"u8);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Override(byte[] body, Channel channel) =>
        string.IsNullOrWhiteSpace(channel.ParamOverride) ? body : BodyRewriter.ApplyOverride(body, channel.ParamOverride);

    /// <summary>Names the operation in logs: openai_embeddings, gemini_embeddings, openai_images.</summary>
    public static string Wire(ApiProtocol p, RelayOperation op) => op switch
    {
        RelayOperation.Embeddings => (p == ApiProtocol.Gemini ? "gemini" : "openai") + "_embeddings",
        RelayOperation.Images => "openai_images",
        _ => p.ToWire(),
    };
}
