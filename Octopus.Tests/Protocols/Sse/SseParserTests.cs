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
}
