using System.Text.Json;
using Octopus.Domain;

namespace Octopus.Protocols.Passthrough;

/// <summary>Reads each protocol's usage object into <see cref="Usage"/> (InputTokens includes cache).</summary>
internal static class UsageJson
{
    /// <summary>
    /// One pass over a whole (non-stream) response body: false unless it is exactly one JSON object (a truncated or
    /// garbled 200 must fail the attempt, not break the client's SDK); <paramref name="usage"/> is its usage, default
    /// when absent. Only the usage object is built into a document, not the whole reply.
    /// </summary>
    public static bool TryReadResponse(ApiProtocol protocol, ReadOnlySpan<byte> body, out Usage usage)
    {
        usage = default;
        var name = UsageProperty(protocol);
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUsage = reader.ValueTextEquals(name);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    using var doc = JsonDocument.ParseValue(ref reader);
                    usage = FromUsage(protocol, doc.RootElement);
                }
                else
                {
                    reader.Skip();
                }
            }
            // Exactly one value: trailing bytes other than whitespace make the reader throw.
            return !reader.Read();
        }
        catch (JsonException)
        {
            usage = default;
            return false;
        }
    }

    public static Usage FromRoot(ApiProtocol protocol, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return default;
        // Stream events wrap the object: Responses {"type":"response.completed","response":{...}}, Anthropic message_start.
        var wrapper = protocol switch { ApiProtocol.OpenAIResponses => "response", ApiProtocol.Anthropic => "message", _ => null };
        if (wrapper is not null && root.TryGetProperty(wrapper, out var inner) && inner.ValueKind == JsonValueKind.Object) root = inner;
        return root.TryGetProperty(UsageProperty(protocol), out var u) ? FromUsage(protocol, u) : default;
    }

    private static ReadOnlySpan<byte> UsageProperty(ApiProtocol protocol) => protocol == ApiProtocol.Gemini ? "usageMetadata"u8 : "usage"u8;

    /// <summary>A usage object in <paramref name="protocol"/>'s shape.</summary>
    private static Usage FromUsage(ApiProtocol protocol, JsonElement u) => protocol switch
    {
        ApiProtocol.Gemini => FromGemini(u),
        ApiProtocol.OpenAIResponses => FromResponses(u),
        ApiProtocol.Anthropic => FromAnthropic(u, default),
        _ => FromOpenAIChat(u),
    };

    public static Usage FromOpenAIChat(JsonElement u)
    {
        if (u.ValueKind != JsonValueKind.Object) return default;
        var usage = new Usage
        {
            InputTokens = Long(u, "prompt_tokens"),
            OutputTokens = Long(u, "completion_tokens"),
        };
        if (u.TryGetProperty("prompt_tokens_details", out var pd) && pd.ValueKind == JsonValueKind.Object)
            usage.CacheReadTokens = Long(pd, "cached_tokens");
        if (usage.CacheReadTokens == 0) usage.CacheReadTokens = Long(u, "prompt_cache_hit_tokens"); // DeepSeek
        if (u.TryGetProperty("completion_tokens_details", out var cd) && cd.ValueKind == JsonValueKind.Object)
            usage.ReasoningTokens = Long(cd, "reasoning_tokens");
        return usage;
    }

    public static Usage FromResponses(JsonElement u)
    {
        if (u.ValueKind != JsonValueKind.Object) return default;
        var usage = new Usage
        {
            InputTokens = Long(u, "input_tokens"),
            OutputTokens = Long(u, "output_tokens"),
        };
        if (u.TryGetProperty("input_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object)
            usage.CacheReadTokens = Long(d, "cached_tokens");
        if (u.TryGetProperty("output_tokens_details", out var od) && od.ValueKind == JsonValueKind.Object)
            usage.ReasoningTokens = Long(od, "reasoning_tokens");
        return usage;
    }

    /// <summary>Anthropic's input_tokens excludes cache reads and writes; ours includes them.
    /// Fields absent from <paramref name="u"/> keep their value from <paramref name="previous"/> (streams report in parts).</summary>
    public static Usage FromAnthropic(JsonElement u, AnthropicParts previous) => Combine(ReadAnthropicParts(u, previous));

    public static AnthropicParts ReadAnthropicParts(JsonElement u, AnthropicParts previous)
    {
        if (u.ValueKind != JsonValueKind.Object) return previous;
        return new AnthropicParts(
            LongOr(u, "input_tokens", previous.Input),
            LongOr(u, "output_tokens", previous.Output),
            LongOr(u, "cache_read_input_tokens", previous.CacheRead),
            LongOr(u, "cache_creation_input_tokens", previous.CacheWrite));
    }

    public static Usage Combine(AnthropicParts p) => new()
    {
        InputTokens = p.Input + p.CacheRead + p.CacheWrite,
        OutputTokens = p.Output,
        CacheReadTokens = p.CacheRead,
        CacheWriteTokens = p.CacheWrite,
    };

    public static Usage FromGemini(JsonElement u) => u.ValueKind == JsonValueKind.Object ? Gemini.GeminiJson.ReadUsage(u) : default;

    private static long Long(JsonElement o, string name) => LongOr(o, name, 0);

    private static long LongOr(JsonElement o, string name, long fallback) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var x) ? x : fallback;
}

internal readonly record struct AnthropicParts(long Input, long Output, long CacheRead, long CacheWrite);
