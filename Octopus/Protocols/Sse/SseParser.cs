using System.Buffers;
using System.Text;

namespace Octopus.Protocols.Sse;

/// <summary>
/// Incremental SSE parsing over a pipe buffer: takes one complete event at a time and leaves partial bytes for the
/// next read. Handles LF, CRLF and CR line ends (the spec allows all three).
/// </summary>
internal static class SseParser
{
    /// <summary>Largest single event accepted; beyond it the stream is treated as malformed.</summary>
    public const int MaxEventBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Reads one complete event from the front of <paramref name="buffer"/> and slices it off.
    /// Returns false when no complete event is buffered yet.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out SseEvent ev)
    {
        var reader = new SequenceReader<byte>(buffer);
        string? eventType = null;
        ArrayBufferWriter<byte>? joined = null;
        ReadOnlyMemory<byte> firstData = default;
        var dataLines = 0;
        var sawField = false;

        while (true)
        {
            if (!TryReadLine(ref reader, out var line))
            {
                ev = default;
                if (buffer.Length > MaxEventBytes) throw new InvalidDataException($"SSE event larger than {MaxEventBytes} bytes");
                return false;
            }

            if (line.IsEmpty)
            {
                // Blank line: dispatch. Leading blank lines (no fields yet) are skipped as part of this event's raw bytes.
                if (!sawField) continue;
                var raw = buffer.Slice(0, reader.Position);
                var data = dataLines switch
                {
                    0 => ReadOnlyMemory<byte>.Empty,
                    1 => firstData,
                    _ => joined!.WrittenMemory,
                };
                ev = new SseEvent(raw, eventType, data, dataLines > 0);
                buffer = buffer.Slice(reader.Position);
                return true;
            }

            sawField = true;
            if (line.FirstSpan.Length > 0 && line.FirstSpan[0] == (byte)':') continue; // comment

            var name = SplitField(line, out var value).Span;
            if (name.SequenceEqual("data"u8))
            {
                dataLines++;
                if (dataLines == 1)
                {
                    firstData = value;
                }
                else
                {
                    if (joined is null)
                    {
                        joined = new ArrayBufferWriter<byte>(firstData.Length * 2 + value.Length + 1);
                        joined.Write(firstData.Span);
                    }
                    joined.Write("\n"u8);
                    joined.Write(value.Span);
                }
            }
            else if (name.SequenceEqual("event"u8))
            {
                eventType = Encoding.UTF8.GetString(value.Span);
            }
            // id:, retry: and unknown fields are kept in Raw only.
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        var before = reader.Consumed;
        if (!reader.TryReadToAny(out line, "\r\n"u8, advancePastDelimiter: false)) return false;
        reader.TryRead(out var terminator);
        if (terminator == (byte)'\r')
        {
            // CRLF is one line end; for a CR at the end of the buffer we must wait to see the next byte.
            if (!reader.TryPeek(out var next))
            {
                reader.Rewind(reader.Consumed - before);
                return false;
            }
            if (next == (byte)'\n') reader.Advance(1);
        }
        return true;
    }

    private static ReadOnlyMemory<byte> SplitField(ReadOnlySequence<byte> line, out ReadOnlyMemory<byte> value)
    {
        // Field lines are short except data; copy only when the line spans segments.
        ReadOnlyMemory<byte> mem = line.IsSingleSegment ? line.First : line.ToArray();
        var colon = mem.Span.IndexOf((byte)':');
        if (colon < 0)
        {
            value = ReadOnlyMemory<byte>.Empty;
            return mem;
        }
        var valueStart = colon + 1;
        if (valueStart < mem.Length && mem.Span[valueStart] == (byte)' ') valueStart++;
        value = mem[valueStart..];
        return mem[..colon];
    }
}
