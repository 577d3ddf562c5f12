using System.Buffers;
using Octopus.Domain;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.Conversion;

/// <summary>Turns one upstream SSE stream into the client's SSE stream, event by event.</summary>
internal interface IStreamTranscoder
{
    /// <summary>
    /// Feeds one upstream event and writes zero or more complete client events to <paramref name="output"/>.
    /// Returns true when the event carried content (text, thinking or tool-call data). A malformed upstream event
    /// is written as an in-band error and closes the stream (<see cref="IsClosed"/>); it never throws.
    /// </summary>
    bool OnEvent(in SseEvent ev, IBufferWriter<byte> output);
    /// <summary>Upstream ended normally: writes the client's closing events.</summary>
    void Complete(IBufferWriter<byte> output);
    /// <summary>Upstream failed mid-stream: writes a protocol-correct in-band error and closes.</summary>
    void Fail(string message, IBufferWriter<byte> output);
    Usage Usage { get; }
    /// <summary>Canonical stop reason (<see cref="Canonical.StopReasons"/>), null until known.</summary>
    string? StopReason { get; }
    /// <summary>The in-band error the client was sent (malformed upstream data, an upstream error event, or
    /// <see cref="Fail"/>); null while the stream is healthy or after it completed normally.</summary>
    string? Error { get; }
    /// <summary>True once the client stream is closed (completed, failed, or an upstream in-band error was relayed);
    /// the relay can stop reading upstream.</summary>
    bool IsClosed { get; }
}
