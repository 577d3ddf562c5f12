using System.Buffers;
using System.Text;
using Octopus.Protocols.Anthropic;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

/// <summary>
/// content_block_delta events named by their `event:` line take the decoder's reader path; the same data without the
/// line takes its document path. Both must report the same.
/// </summary>
public sealed class AnthropicStreamDecoderTests
{
    private static List<string> Decode(bool named, params string[] datas)
    {
        var sink = new RecordingSink();
        var decoder = new AnthropicStreamDecoder();
        foreach (var data in datas)
        {
            var type = data.Contains("\"content_block_delta\"") ? "content_block_delta" : "content_block_start";
            var bytes = Encoding.UTF8.GetBytes((named ? $"event: {type}\n" : "") + "data: " + data + "\n\n");
            var buffer = new ReadOnlySequence<byte>(bytes);
            Assert.True(SseParser.TryRead(ref buffer, out var ev));
            try
            {
                decoder.OnEvent(ev, sink);
            }
            catch (Octopus.Protocols.Conversion.ProtocolException e)
            {
                sink.Calls.Add("throws " + e.Message);
            }
        }
        return sink.Calls;
    }

    private static List<string> BothPaths(params string[] datas)
    {
        var named = Decode(true, datas);
        Assert.Equal(Decode(false, datas), named);
        return named;
    }

    [Fact]
    public void Text_thinking_signature_and_tool_argument_deltas()
    {
        var calls = BothPaths(
            """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see"}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}""",
            """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}""",
            """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}""");
        Assert.Equal(["thinking Let me see", "signature EqQBCgIYAhIM", "text Hello", "call 2 toolu_1 get_weather", "args 2 {\"city\": \"Par"], calls);
    }

    [Fact]
    public void Escapes_member_order_and_extra_members()
    {
        Assert.Equal(["text a\"b\\\n\u00e9 😀 </script>"], BothPaths(
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b\\\n\u00e9 \ud83d\ude00 <\/script>"}}"""));
        Assert.Equal(["text later type"], BothPaths(
            """{"delta":{"text":"later type","extra":[1,{"a":null}],"type":"text_delta"},"index":0,"future":{"x":1},"type":"content_block_delta"}"""));
    }

    [Fact]
    public void What_is_not_reported_stays_unreported()
    {
        Assert.Empty(BothPaths(
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"cited_text":"x"}}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":42}}""",
            """{"type":"content_block_delta","index":0,"delta":{"text":"no type"}}""",
            """{"type":"content_block_delta","index":0,"delta":"text"}""",
            """{"type":"content_block_delta","index":0}"""));
        // A block the converter skips (a server tool) has its deltas skipped too.
        Assert.Empty(BothPaths(
            """{"type":"content_block_start","index":3,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}""",
            """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"query\""}}"""));
    }

    [Fact]
    public void Odd_and_malformed_events_go_the_document_way()
    {
        // The payload's own type decides: a ping sent under a content_block_delta name is a ping.
        Assert.Empty(BothPaths("""{"type":"ping","index":0,"delta":{"type":"text_delta","text":"not text"}}"""));
        Assert.Equal(["text fractional index"], BothPaths("""{"type":"content_block_delta","index":0.5,"delta":{"type":"text_delta","text":"fractional index"}}"""));
        var broken = BothPaths("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut""");
        Assert.StartsWith("throws Malformed Anthropic stream event", Assert.Single(broken));
        Assert.StartsWith("throws Malformed", Assert.Single(BothPaths("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} {}""")));
    }
}
