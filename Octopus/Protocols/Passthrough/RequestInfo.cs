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
    public bool HasImages => Images > 0;
    /// <summary>Image parts in the messages.</summary>
    public int Images { get; set; }
    /// <summary>Documents or file parts (PDFs, Gemini file/inline data): they weigh more in a token estimate than their bytes.</summary>
    public int Files { get; set; }
    /// <summary>Entries of messages / input / contents.</summary>
    public int MessageCount { get; set; }
    public bool Thinking { get; set; }
    /// <summary>Identity a client sends for its conversation: metadata.user_id, prompt_cache_key or user.</summary>
    public string? SessionHint { get; set; }
    /// <summary>Raw bytes of the system prompt and the first message: a stable fingerprint of the conversation.</summary>
    public Range SystemRange { get; set; }
    public Range FirstMessageRange { get; set; }
    /// <summary>Bytes of the `tools` value.</summary>
    public int ToolsBytes { get; set; }
    /// <summary>Bytes of the text strings in the messages: not base64 payloads, ids, roles or part types.</summary>
    public long TextBytes { get; set; }

    /// <summary>
    /// The gateway's input-token estimate, found in the same scan (routing rules and count_tokens use it): about four
    /// bytes a token over message text, the system prompt and the tool definitions, plus 4 tokens a message,
    /// 1600 an image and 3000 a document or file.
    /// </summary>
    public long EstimatedInputTokens
    {
        get
        {
            var systemBytes = SystemRange.End.Value - SystemRange.Start.Value;
            var messages = MessageCount + (systemBytes > 0 ? 1 : 0);
            return 4L * messages + 1600L * Images + 3000L * Files + (TextBytes + systemBytes + ToolsBytes + 3) / 4;
        }
    }
}
