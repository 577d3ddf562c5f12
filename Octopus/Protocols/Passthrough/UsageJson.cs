using System.Text.Json;
using Octopus.Domain;

namespace Octopus.Protocols.Passthrough;

/// <summary>Reads each protocol's usage object into <see cref="Usage"/> (InputTokens includes cache).</summary>
internal static class UsageJson
{
    /// <summary>Finds the usage object of a whole (non-stream) response body. Returns default when absent.</summary>
    public static Usage ReadResponse(ApiProtocol protocol, ReadOnlySpan<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            return FromRoot(protocol, doc.RootElement);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    public static Usage FromRoot(ApiProtocol protocol, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return default;
        switch (protocol)
        {
            case ApiProtocol.Gemini:
                return root.TryGetProperty("usageMetadata", out var gm) ? FromGemini(gm) : default;
            case ApiProtocol.OpenAIResponses:
                // Streams wrap the response object: {"type":"response.completed","response":{...}}
                if (root.TryGetProperty("response", out var resp) && resp.ValueKind == JsonValueKind.Object) root = resp;
                return root.TryGetProperty("usage", out var ru) ? FromResponses(ru) : default;
            case ApiProtocol.Anthropic:
                if (root.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.Object) root = msg;
                return root.TryGetProperty("usage", out var au) ? FromAnthropic(au, default) : default;
            default:
                return root.TryGetProperty("usage", out var ou) ? FromOpenAIChat(ou) : default;
        }
    }

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

    public static Usage FromGemini(JsonElement u)
    {
        if (u.ValueKind != JsonValueKind.Object) return default;
        var thoughts = Long(u, "thoughtsTokenCount");
        return new Usage
        {
            InputTokens = Long(u, "promptTokenCount") + Long(u, "toolUsePromptTokenCount"),
            OutputTokens = Long(u, "candidatesTokenCount") + thoughts,
            CacheReadTokens = Long(u, "cachedContentTokenCount"),
            ReasoningTokens = thoughts,
        };
    }

    private static long Long(JsonElement o, string name) => LongOr(o, name, 0);

    private static long LongOr(JsonElement o, string name, long fallback) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var x) ? x : fallback;
}

internal readonly record struct AnthropicParts(long Input, long Output, long CacheRead, long CacheWrite);
