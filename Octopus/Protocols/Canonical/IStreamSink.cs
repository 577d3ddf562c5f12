using Octopus.Domain;

namespace Octopus.Protocols.Canonical;

/// <summary>
/// Canonical stream events. An upstream stream decoder calls these as it reads each upstream event; a client stream
/// encoder implements them and writes the client's events straight away (no buffering beyond what the client format
/// forces, e.g. Gemini function calls arrive whole).
/// </summary>
internal interface IStreamSink
{
    void Start(string? id, string? model);
    void Text(string text);
    void Thinking(string text);
    /// <summary>Signature for the current thinking block, native to the upstream protocol.</summary>
    void ThinkingSignature(string signature);
    void RedactedThinking(string data);
    /// <summary>A tool call begins. <paramref name="key"/> identifies it within this upstream stream.</summary>
    void ToolCallStart(int key, string id, string name, string? thoughtSignature);
    void ToolCallArguments(int key, string fragment);
    void Refusal(string text);
    /// <summary>The upstream closed its current content block.</summary>
    void BlockEnd();
    /// <summary>Usage seen so far; non-zero fields replace earlier values.</summary>
    void Usage(in Usage usage);
    void Finish(string stopReason);
    /// <summary>The upstream reported an error in-band.</summary>
    void Error(int status, string message);
}
