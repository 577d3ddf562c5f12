using System.Buffers;
using System.Text;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols.Sse;

public sealed class SseParserTests
{
    private static List<(string? Type, string Data, string Raw, bool HasData)> ParseAll(params string[] chunks)
    {
        // Feed the chunks as separate segments to exercise events split across reads.
        var results = new List<(string?, string, string, bool)>();
        var pending = Array.Empty<byte>();
        foreach (var chunk in chunks)
        {
            pending = [.. pending, .. Encoding.UTF8.GetBytes(chunk)];
            var buffer = new ReadOnlySequence<byte>(pending);
            while (SseParser.TryRead(ref buffer, out var ev))
                results.Add((ev.EventType, Encoding.UTF8.GetString(ev.DataSpan), Encoding.UTF8.GetString(ev.Raw.ToArray()), ev.HasData));
            pending = buffer.ToArray();
        }
        return results;
    }

    [Fact]
    public void Reads_named_and_unnamed_events_with_exact_raw_bytes()
    {
        var events = ParseAll("event: message_start\ndata: {\"a\":1}\n\ndata: {\"b\":2}\n\n");
        Assert.Equal(2, events.Count);
        Assert.Equal(("message_start", "{\"a\":1}"), (events[0].Type, events[0].Data));
        Assert.Equal("event: message_start\ndata: {\"a\":1}\n\n", events[0].Raw);
        Assert.Null(events[1].Type);
        Assert.Equal("{\"b\":2}", events[1].Data);
    }

    [Fact]
    public void Waits_for_the_blank_line_when_an_event_is_split()
    {
        var events = ParseAll("data: {\"par", "tial\":true}\n", "\n", "data: [DONE]\n\n");
        Assert.Equal(2, events.Count);
        Assert.Equal("{\"partial\":true}", events[0].Data);
        Assert.Equal("[DONE]", events[1].Data);
    }

    [Fact]
    public void Handles_crlf_and_multiline_data_and_comments()
    {
        var events = ParseAll(": keep-alive\r\n\r\nevent: x\r\ndata: line1\r\ndata: line2\r\n\r\n");
        Assert.Equal(2, events.Count);
        Assert.False(events[0].HasData);
        Assert.Equal("x", events[1].Type);
        Assert.Equal("line1\nline2", events[1].Data);
    }

    [Fact]
    public void A_cr_at_the_end_of_what_arrived_waits_for_the_next_byte()
    {
        var events = ParseAll("data: a\r", "\n\r", "\n");
        Assert.Equal(("a", "data: a\r\n\r\n"), (events.Single().Data, events.Single().Raw));
    }

    [Fact]
    public void Data_without_space_after_colon_is_read()
    {
        var events = ParseAll("data:{\"x\":1}\n\n");
        Assert.Equal("{\"x\":1}", events.Single().Data);
    }

    [Fact]
    public void Recorded_anthropic_stream_replays_event_for_event()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures/recorded/anthropic-tool.stream.jsonl"));
        var sb = new StringBuilder();
        var expected = new List<(string, string)>();
        foreach (var line in lines.Where(l => l.Length > 0))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var type = doc.RootElement.GetProperty("Type").GetString()!;
            var data = doc.RootElement.GetProperty("Data").GetString()!;
            if (type.Length > 0) sb.Append("event: ").Append(type).Append('\n');
            sb.Append("data: ").Append(data).Append("\n\n");
            expected.Add((type, data));
        }
        var text = sb.ToString();
        // Split at awkward places.
        var events = ParseAll(text[..7], text[7..100], text[100..]);
        Assert.Equal(expected.Count, events.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Item1, events[i].Type ?? "");
            Assert.Equal(expected[i].Item2, events[i].Data);
        }
        Assert.Equal(text, string.Concat(events.Select(e => e.Raw)));
    }

    [Fact]
    public void Events_read_the_same_whole_in_one_segment_as_split_across_many()
    {
        // An event whole in the buffer's first segment takes the span path, one split across segments the reader path:
        // random streams (LF, CRLF and CR line ends, comments, several data lines, other fields, leading blank lines,
        // an unfinished tail) must give the same events and leave the same bytes, however the buffer is cut.
        var r = new Random(7);
        string[] ends = ["\n", "\r\n", "\r"];
        string[] fields = ["data: {\"a\":1}", "data:{\"b\":[2]}", "data: ", "data", "event: content_block_delta", "event: custom.thing", ": keep-alive", "id: 42", "retry: 100", "x"];
        for (var round = 0; round < 500; round++)
        {
            var sb = new StringBuilder();
            for (var e = r.Next(1, 6); e > 0; e--)
            {
                if (r.Next(5) == 0) sb.Append(ends[r.Next(ends.Length)]);
                for (var f = r.Next(1, 4); f > 0; f--) sb.Append(fields[r.Next(fields.Length)]).Append(ends[r.Next(ends.Length)]);
                sb.Append(ends[r.Next(2)]); // the blank line (not a lone CR: it could join the next line's LF)
            }
            if (r.Next(2) == 0) sb.Append("data: unfinished");
            var bytes = Encoding.UTF8.GetBytes(sb.ToString());

            var whole = ReadAll(new ReadOnlySequence<byte>(bytes));
            var cuts = Enumerable.Range(0, r.Next(1, 6)).Select(_ => r.Next(1, bytes.Length)).Append(bytes.Length).Distinct().Order().ToArray();
            Assert.Equal(whole, ReadAll(Segmented(bytes, cuts)));
            Assert.Equal(whole, ReadAll(Segmented(bytes, Enumerable.Range(1, bytes.Length).ToArray())));
        }

        static List<string> ReadAll(ReadOnlySequence<byte> buffer)
        {
            var seen = new List<string>();
            while (SseParser.TryRead(ref buffer, out var ev))
                seen.Add($"{ev.EventType}|{ev.HasData}|{Encoding.UTF8.GetString(ev.DataSpan)}|{Encoding.UTF8.GetString(ev.Raw.ToArray())}");
            seen.Add("left:" + Encoding.UTF8.GetString(buffer.ToArray()));
            return seen;
        }
    }

    [Fact]
    public void Known_event_names_are_shared_strings_and_others_are_read_as_sent()
    {
        var events = ParseAll("event: content_block_delta\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\nevent: vendor.extra\ndata: {}\n\n");
        Assert.Same(events[0].Type, events[1].Type);
        Assert.Same("content_block_delta", events[0].Type);
        Assert.Equal("vendor.extra", events[2].Type);
    }

    /// <summary><paramref name="bytes"/> as a sequence of segments ending at each of <paramref name="ends"/>.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int[] ends)
    {
        Segment? first = null, last = null;
        var start = 0;
        foreach (var end in ends)
        {
            var s = new Segment(bytes.AsMemory(start, end - start), last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (last is null) first = s; else last.SetNext(s);
            last = s;
            start = end;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
