using Octopus.Domain;

namespace Octopus.Protocols.Canonical;

/// <summary>One non-streamed answer in protocol-neutral form.</summary>
internal sealed class ChatResponse
{
    public string? Id { get; set; }
    public string? Model { get; set; }
    public List<Part> Parts { get; } = [];
    /// <summary>Canonical stop reason (<see cref="StopReasons"/>).</summary>
    public string StopReason { get; set; } = StopReasons.EndTurn;
    public Usage Usage;

    public bool HasToolCalls()
    {
        foreach (var p in Parts) if (p is ToolCallPart) return true;
        return false;
    }
}

/// <summary>Canonical stop reasons (Anthropic's vocabulary, which is the richest) and their mapping per protocol.</summary>
internal static class StopReasons
{
    public const string EndTurn = "end_turn";
    public const string MaxTokens = "max_tokens";
    public const string StopSequence = "stop_sequence";
    public const string ToolUse = "tool_use";
    public const string ContentFilter = "content_filter";
    public const string Refusal = "refusal";
    public const string PauseTurn = "pause_turn";
    public const string Error = "error";

    public static string FromOpenAI(string? finish) => finish switch
    {
        "length" => MaxTokens,
        "tool_calls" or "function_call" => ToolUse,
        "content_filter" => ContentFilter,
        _ => EndTurn,
    };

    public static string ToOpenAI(string reason) => reason switch
    {
        MaxTokens => "length",
        ToolUse => "tool_calls",
        ContentFilter or Refusal => "content_filter",
        _ => "stop",
    };

    public static string FromAnthropic(string? reason) => reason switch
    {
        "max_tokens" or "model_context_window_exceeded" => MaxTokens,
        "stop_sequence" => StopSequence,
        "tool_use" => ToolUse,
        "refusal" => Refusal,
        "pause_turn" => PauseTurn,
        _ => EndTurn,
    };

    public static string ToAnthropic(string reason) => reason switch
    {
        MaxTokens => "max_tokens",
        StopSequence => "stop_sequence",
        ToolUse => "tool_use",
        ContentFilter or Refusal => "refusal",
        PauseTurn => "pause_turn",
        _ => "end_turn",
    };

    public static string FromGemini(string? reason, bool hasToolCalls) => reason switch
    {
        "MAX_TOKENS" => MaxTokens,
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => ContentFilter,
        "MALFORMED_FUNCTION_CALL" or "UNEXPECTED_TOOL_CALL" => Error,
        _ => hasToolCalls ? ToolUse : EndTurn,
    };

    public static string ToGemini(string reason) => reason switch
    {
        MaxTokens => "MAX_TOKENS",
        ContentFilter or Refusal => "SAFETY",
        Error => "OTHER",
        _ => "STOP",
    };
}
