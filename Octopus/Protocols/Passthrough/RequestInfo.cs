namespace Octopus.Protocols.Passthrough;

/// <summary>What the relay needs to know about a client request, found by one forward scan of its JSON.</summary>
internal sealed class RequestInfo
{
    public string? Model { get; set; }
    /// <summary>Byte range of the `model` value token (quotes included), for in-place rewrite.</summary>
    public Range ModelRange { get; set; }
    public bool Stream { get; set; }
    /// <summary>OpenAI Chat: the client asked for `stream_options.include_usage`.</summary>
    public bool IncludeUsage { get; set; }
    public bool HasStreamOptions { get; set; }
    /// <summary>Byte range of the top-level object's closing brace.</summary>
    public int ObjectEnd { get; set; }
    public bool HasTools { get; set; }
    public bool HasImages { get; set; }
    /// <summary>Documents or file parts (PDFs, Gemini file/inline data): they weigh more in a token estimate than their bytes.</summary>
    public bool HasFiles { get; set; }
    /// <summary>Entries of messages / input / contents.</summary>
    public int MessageCount { get; set; }
    public bool Thinking { get; set; }
    /// <summary>Identity a client sends for its conversation: metadata.user_id, prompt_cache_key or user.</summary>
    public string? SessionHint { get; set; }
    /// <summary>Raw bytes of the system prompt and the first message: a stable fingerprint of the conversation.</summary>
    public Range SystemRange { get; set; }
    public Range FirstMessageRange { get; set; }
    /// <summary>Body length, for a rough token estimate.</summary>
    public int Length { get; set; }
}
