using Octopus.Protocols;

namespace Octopus.Protocols.Canonical;

/// <summary>
/// One request in protocol-neutral form. Decoders fill it from a client body, encoders write it for a channel.
/// Order is kept exactly as the client sent it (prompt caches upstream depend on a byte-stable prefix).
/// </summary>
internal sealed class ChatRequest
{
    /// <summary>Conversation in order. Leading <see cref="Role.System"/> messages are the system prompt; later
    /// ones stay in place (OpenAI allows them) and become user text where the target has no such role.</summary>
    public List<Message> Messages { get; } = [];
    public List<ToolDefinition> Tools { get; } = [];
    public ToolChoice? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public long? MaxTokens { get; set; }
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public long? TopK { get; set; }
    public double? FrequencyPenalty { get; set; }
    public double? PresencePenalty { get; set; }
    public long? Seed { get; set; }
    public List<string> StopSequences { get; } = [];
    public ReasoningConfig? Reasoning { get; set; }
    public ResponseFormat? ResponseFormat { get; set; }
    public string? PromptCacheKey { get; set; }
    /// <summary>End-user id (OpenAI `user`, Anthropic `metadata.user_id`).</summary>
    public string? User { get; set; }

    public bool HasCacheControl()
    {
        foreach (var t in Tools) if (t.CacheControl is not null) return true;
        foreach (var m in Messages)
            foreach (var p in m.Parts)
                if (p.CacheControl is not null) return true;
        return false;
    }
}

internal enum Role
{
    System,
    User,
    Assistant,
}

internal sealed class Message(Role role)
{
    public Role Role { get; } = role;
    public List<Part> Parts { get; } = [];
}

/// <summary>One content part. <see cref="CacheControl"/> is Anthropic's raw `cache_control` JSON, kept verbatim.</summary>
internal abstract class Part
{
    public string? CacheControl { get; set; }
}

internal sealed class TextPart(string text) : Part
{
    public string Text { get; } = text;
}

/// <summary>An image by URL or inline base64 data.</summary>
internal sealed class ImagePart : Part
{
    public string? Url { get; init; }
    public string? MediaType { get; init; }
    public string? Data { get; init; }
    public string? Detail { get; init; }
    public string? FileId { get; init; }

    /// <summary>The image as a URL, inline data as a `data:` URL.</summary>
    public string? AsUrl() => Url ?? (Data is null ? null : $"data:{MediaType ?? "image/png"};base64,{Data}");
}

/// <summary>A document (PDF or other file) by URL, inline base64 data, or plain text.</summary>
internal sealed class DocumentPart : Part
{
    public string? Url { get; init; }
    public string? MediaType { get; init; }
    public string? Data { get; init; }
    /// <summary>Plain-text documents carry their text here instead of <see cref="Data"/>.</summary>
    public string? Text { get; init; }
    public string? FileName { get; init; }
    public string? FileId { get; init; }

    public string? AsDataUrl() => Data is null ? null : $"data:{MediaType ?? "application/pdf"};base64,{Data}";
}

/// <summary>
/// Reasoning the model produced. <see cref="Signature"/> is only valid for the protocol named by <see cref="Origin"/>
/// (see <see cref="Signatures"/>); a redacted block keeps its opaque data in <see cref="Signature"/>.
/// </summary>
internal sealed class ThinkingPart : Part
{
    public string Text { get; set; } = "";
    public string? Signature { get; set; }
    public ApiProtocol? Origin { get; set; }
    public bool Redacted { get; set; }
}

internal sealed class ToolCallPart : Part
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>Arguments as JSON text, byte-for-byte as received.</summary>
    public string Arguments { get; set; } = "{}";
    /// <summary>Gemini's `thoughtSignature` on a function call part (Gemini-native value).</summary>
    public string? ThoughtSignature { get; set; }
}

internal sealed class ToolResultPart : Part
{
    public required string CallId { get; init; }
    /// <summary>Function name when the source protocol states it (Gemini needs it; encoders look it up otherwise).</summary>
    public string? Name { get; set; }
    public List<Part> Content { get; } = [];
    public bool IsError { get; set; }

    public string JoinedText()
    {
        if (Content.Count == 1 && Content[0] is TextPart only) return only.Text;
        var sb = new System.Text.StringBuilder();
        foreach (var p in Content)
        {
            if (p is not TextPart t) continue;
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(t.Text);
        }
        return sb.ToString();
    }
}

internal sealed class RefusalPart(string text) : Part
{
    public string Text { get; } = text;
}

internal sealed class ToolDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>JSON schema, raw JSON text written through verbatim so its key order never changes.</summary>
    public string? Parameters { get; init; }
    public bool? Strict { get; init; }
    public string? CacheControl { get; set; }
}

internal enum ToolChoiceKind
{
    Auto,
    None,
    Required,
    Tool,
}

internal sealed record ToolChoice(ToolChoiceKind Kind, string? Name = null);

/// <summary>
/// Reasoning request. <see cref="Effort"/> is OpenAI's scale (minimal|low|medium|high|xhigh; Anthropic's "max" maps
/// to high); <see cref="BudgetTokens"/> is an explicit thinking budget; either may be absent.
/// </summary>
internal sealed class ReasoningConfig
{
    public bool Disabled { get; set; }
    public string? Effort { get; set; }
    public long? BudgetTokens { get; set; }
    /// <summary>Anthropic adaptive thinking: the model decides how much to think.</summary>
    public bool Adaptive { get; set; }
    /// <summary>OpenAI reasoning summary (auto|concise|detailed).</summary>
    public string? Summary { get; set; }
    public bool? IncludeThoughts { get; set; }

    /// <summary>An effort for targets that speak effort: the explicit one, else derived from the budget.</summary>
    public string ResolveEffort()
    {
        if (Effort is not null) return Effort;
        if (BudgetTokens is { } b) return b <= 2048 ? "low" : b <= 12288 ? "medium" : "high";
        return "medium";
    }

    /// <summary>A budget for targets that speak budgets: the explicit one, else derived from the effort.</summary>
    public long ResolveBudget()
    {
        if (BudgetTokens is { } b) return b;
        return (Effort ?? "medium") switch
        {
            "minimal" => 1024,
            "low" => 2048,
            "medium" => 8192,
            "high" => 16384,
            _ => 32768,
        };
    }
}

internal enum ResponseFormatKind
{
    Text,
    JsonObject,
    JsonSchema,
}

internal sealed class ResponseFormat
{
    public ResponseFormatKind Kind { get; init; }
    public string? Name { get; init; }
    /// <summary>Raw JSON schema text.</summary>
    public string? Schema { get; init; }
    public bool? Strict { get; init; }
}
