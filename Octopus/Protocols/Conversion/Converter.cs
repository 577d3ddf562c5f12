using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Anthropic;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Gemini;
using Octopus.Protocols.OpenAIChat;
using Octopus.Protocols.OpenAIResponses;

namespace Octopus.Protocols.Conversion;

/// <summary>What the relay knows about the upstream side of one converted request.</summary>
internal sealed record ConversionOptions
{
    /// <summary>Model name to put in the upstream request (Gemini takes it in the URL; the relay builds that).</summary>
    public required string UpstreamModel { get; init; }
    /// <summary>Ask the upstream for a stream (OpenAI Chat also gets stream_options.include_usage).</summary>
    public bool Stream { get; init; }
    /// <summary>Channel type, for Volcengine / OpenAI-compatible quirks.</summary>
    public ChannelType ChannelType { get; init; }
    /// <summary>A stable conversation id; OpenAI upstreams use it as prompt_cache_key when the client gave none.</summary>
    public string? ConversationId { get; init; }
    /// <summary>Insert ephemeral cache_control breakpoints (Anthropic upstream) when the client sent none.</summary>
    public bool AddCacheBreakpoints { get; init; }
}

/// <summary>A converted non-streamed response and the usage read from the upstream body.</summary>
internal readonly record struct ConvertedResponse(byte[] Body, Usage Usage);

/// <summary>
/// Converts between wire protocols through the canonical model (<see cref="Canonical"/>). Same-protocol traffic never
/// comes here: the relay passes it through byte for byte. Every entry point throws only <see cref="ProtocolException"/>.
/// </summary>
internal static class Converter
{
    /// <summary>Client body (protocol <paramref name="from"/>) → upstream body (protocol <paramref name="to"/>).</summary>
    public static byte[] ConvertRequest(ApiProtocol from, ApiProtocol to, ReadOnlySpan<byte> body, ConversionOptions options)
    {
        var req = DecodeRequest(from, body);
        try
        {
            return to switch
            {
                ApiProtocol.OpenAIChat => OpenAIChatRequestCodec.Encode(req, options),
                ApiProtocol.OpenAIResponses => ResponsesRequestCodec.Encode(req, options),
                ApiProtocol.Anthropic => AnthropicRequestCodec.Encode(req, options),
                ApiProtocol.Gemini => GeminiRequestCodec.Encode(req, options),
                _ => throw new ProtocolException($"Unknown protocol {to}"),
            };
        }
        catch (Exception ex) when (ex is not ProtocolException and not OutOfMemoryException)
        {
            throw new ProtocolException($"Request could not be converted to {to.ToWire()}: {ex.Message}");
        }
    }

    /// <summary>Reads a client request into the canonical model (also used for token estimates).</summary>
    internal static ChatRequest DecodeRequest(ApiProtocol from, ReadOnlySpan<byte> body)
    {
        try
        {
            return from switch
            {
                ApiProtocol.OpenAIChat => OpenAIChatRequestCodec.Decode(body),
                ApiProtocol.OpenAIResponses => ResponsesRequestCodec.Decode(body),
                ApiProtocol.Anthropic => AnthropicRequestCodec.Decode(body),
                ApiProtocol.Gemini => GeminiRequestCodec.Decode(body),
                _ => throw new ProtocolException($"Unknown protocol {from}"),
            };
        }
        catch (Exception ex) when (ex is not ProtocolException and not OutOfMemoryException)
        {
            throw new ProtocolException($"Malformed {from.ToWire()} request: {ex.Message}");
        }
    }

    /// <summary>Upstream non-stream response body → client body; <paramref name="clientModel"/> is echoed back.</summary>
    public static ConvertedResponse ConvertResponse(ApiProtocol upstream, ApiProtocol client, ReadOnlySpan<byte> body, string clientModel)
    {
        try
        {
            var resp = upstream switch
            {
                ApiProtocol.OpenAIChat => OpenAIChatResponseCodec.Decode(body),
                ApiProtocol.OpenAIResponses => ResponsesResponseCodec.Decode(body),
                ApiProtocol.Anthropic => AnthropicResponseCodec.Decode(body),
                ApiProtocol.Gemini => GeminiResponseCodec.Decode(body),
                _ => throw new ProtocolException($"Unknown protocol {upstream}"),
            };
            var bytes = client switch
            {
                ApiProtocol.OpenAIChat => OpenAIChatResponseCodec.Encode(resp, upstream, clientModel),
                ApiProtocol.OpenAIResponses => ResponsesResponseCodec.Encode(resp, upstream, clientModel),
                ApiProtocol.Anthropic => AnthropicResponseCodec.Encode(resp, upstream, clientModel),
                ApiProtocol.Gemini => GeminiResponseCodec.Encode(resp, upstream, clientModel),
                _ => throw new ProtocolException($"Unknown protocol {client}"),
            };
            return new ConvertedResponse(bytes, resp.Usage);
        }
        catch (Exception ex) when (ex is not ProtocolException and not OutOfMemoryException)
        {
            throw new ProtocolException($"Malformed {upstream.ToWire()} response: {ex.Message}");
        }
    }

    /// <summary>A stateful converter for one upstream stream.</summary>
    public static IStreamTranscoder CreateStreamTranscoder(ApiProtocol upstream, ApiProtocol client, string clientModel)
    {
        IStreamDecoder decoder = upstream switch
        {
            ApiProtocol.OpenAIChat => new OpenAIChatStreamDecoder(),
            ApiProtocol.OpenAIResponses => new ResponsesStreamDecoder(),
            ApiProtocol.Anthropic => new AnthropicStreamDecoder(),
            ApiProtocol.Gemini => new GeminiStreamDecoder(),
            _ => throw new ProtocolException($"Unknown protocol {upstream}"),
        };
        StreamEncoder encoder = client switch
        {
            ApiProtocol.OpenAIChat => new OpenAIChatStreamEncoder(upstream, clientModel),
            ApiProtocol.OpenAIResponses => new ResponsesStreamEncoder(upstream, clientModel),
            ApiProtocol.Anthropic => new AnthropicStreamEncoder(upstream, clientModel),
            ApiProtocol.Gemini => new GeminiStreamEncoder(upstream, clientModel),
            _ => throw new ProtocolException($"Unknown protocol {client}"),
        };
        return new StreamTranscoder(decoder, encoder);
    }

    /// <summary>Upstream error (status + body in the upstream's shape) → the client's error shape and a fitting status.</summary>
    public static (int Status, byte[] Body) ConvertError(ApiProtocol upstream, ApiProtocol client, int status, ReadOnlySpan<byte> body)
    {
        var message = ReadErrorMessage(body) ?? $"Upstream returned HTTP {status}";
        // 529 (Anthropic "overloaded") means nothing to other SDKs; 503 keeps its retry meaning.
        var mapped = status == 529 && client != ApiProtocol.Anthropic ? 503 : status;
        if (mapped is < 400 or > 599) mapped = 502;
        return (mapped, ProtocolErrors.Body(client, mapped, message));
    }

    /// <summary>The human-readable message from any protocol's error body; null when there is none.</summary>
    internal static string? ReadErrorMessage(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        try
        {
            using var doc = JsonRead.Parse(body, "error");
            var root = doc.RootElement;
            // Gemini sometimes wraps the error in a one-element array.
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0) root = root[0];
            if (root.Obj("error", out var error))
            {
                return error.Str("message") ?? error.Str("type");
            }
            if (root.Str("message") is { } message) return message;
            if (root.Str("error") is { } text) return text;
        }
        catch (ProtocolException)
        {
        }
        var raw = System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 1000)]).Trim();
        return raw.Length == 0 ? null : raw;
    }
}
