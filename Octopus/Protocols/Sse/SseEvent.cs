using System.Buffers;

namespace Octopus.Protocols.Sse;

/// <summary>
/// One server-sent event. <see cref="Raw"/> is the exact bytes received (fields and the blank line that ends it),
/// so passthrough can forward it untouched; <see cref="Data"/> is the data lines joined by '\n'.
/// Only valid until the buffer it was read from is advanced.
/// </summary>
internal readonly struct SseEvent(ReadOnlySequence<byte> raw, string? eventType, ReadOnlyMemory<byte> data, bool hasData)
{
    public ReadOnlySequence<byte> Raw { get; } = raw;
    /// <summary>The `event:` field, or null when the event has none (OpenAI, Gemini).</summary>
    public string? EventType { get; } = eventType;
    public ReadOnlyMemory<byte> Data { get; } = data;
    /// <summary>False for comment-only blocks (`: keep-alive`) and blocks without a data line.</summary>
    public bool HasData { get; } = hasData;

    public ReadOnlySpan<byte> DataSpan => Data.Span;

    /// <summary>OpenAI's end-of-stream sentinel, `data: [DONE]`.</summary>
    public bool IsDone => HasData && Data.Span.SequenceEqual("[DONE]"u8);
}
