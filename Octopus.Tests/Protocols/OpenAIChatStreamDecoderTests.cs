using System.Buffers;
using System.Text;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.OpenAIChat;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

/// <summary>
/// A stream's first chunk always takes the decoder's document path; later plain text chunks take its reader path.
/// Each chunk here is decoded both ways (first on a fresh decoder, and after a first chunk) and must report the same.
/// </summary>
public sealed class OpenAIChatStreamDecoderTests
{
    private static List<string> Decode(params string[] datas)
    {
        var sink = new RecordingSink();
        var decoder = new OpenAIChatStreamDecoder();
        foreach (var data in datas)
        {
            var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("data: " + data + "\n\n"));
            Assert.True(SseParser.TryRead(ref buffer, out var ev));
            try
            {
                decoder.OnEvent(ev, sink);
            }
            catch (ProtocolException e)
            {
                sink.Calls.Add("throws " + e.Message);
            }
        }
        return sink.Calls.Where(c => !c.StartsWith("start ")).ToList();
    }

    private static List<string> BothPaths(string chunk)
    {
        var later = Decode("""{"id":"chatcmpl-1","model":"m","choices":[]}""", chunk);
        Assert.Equal(Decode(chunk), later);
        return later;
    }

    private const string Head = """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","service_tier":"default","system_fingerprint":"fp_1","obfuscation":"x1","created":1700000000""";

    [Fact]
    public void Text_and_reasoning_deltas()
    {
        Assert.Equal(["text Hello"], BothPaths(Head + ""","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"""));
        // DeepSeek: reasoning first, whatever the member order; OpenAI's first chunk: role, empty content, null refusal.
        Assert.Equal(["thinking Hmm", "text ok"], BothPaths("""{"choices":[{"index":0,"delta":{"content":"ok","reasoning_content":"Hmm"},"finish_reason":null}]}"""));
        Assert.Equal(["thinking Let me think"], BothPaths("""{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Let me think"},"logprobs":null,"finish_reason":null}]}"""));
        Assert.Empty(BothPaths(Head + ""","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"""));
        Assert.Equal(["text a\"b\\\n\u00e9 😀"], BothPaths("""{"choices":[{"delta":{"content":"a\"b\\\n\u00e9 \ud83d\ude00","tool_calls":null,"audio":{"id":"x"}},"logprobs":{"content":[{"token":"a","logprob":-0.1}]},"native_finish_reason":null}],"error":null,"provider":"OpenAI"}"""));
    }

    [Fact]
    public void Finish_usage_tools_errors_and_other_choices()
    {
        Assert.Equal(["text !", "finish end_turn"], BothPaths("""{"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":null}"""));
        Assert.Equal(["usage 19 10"], BothPaths(Head + ""","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}}"""));
        Assert.Equal(["call 0 call_1 get_weather", "args 0 {\"city\""], BothPaths("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\""}}]},"finish_reason":null}]}"""));
        Assert.Equal(["thinking via reasoning"], BothPaths("""{"choices":[{"index":0,"delta":{"content":null,"reasoning":"via reasoning"},"finish_reason":null}]}"""));
        Assert.Equal(["refusal no"], BothPaths("""{"choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":null}]}"""));
        Assert.Equal(["error 429 slow down"], BothPaths("""{"error":{"message":"slow down","code":429}}"""));
        Assert.Equal(["text first"], BothPaths("""{"choices":[{"index":0,"delta":{"content":"first"}},{"index":1,"delta":{"content":"second"}}]}"""));
        Assert.Empty(BothPaths("""{"choices":[{"index":1,"delta":{"content":"second only"}}]}"""));
        Assert.Empty(BothPaths("""{"choices":[{"index":0,"delta":{"content":42}}]}"""));
    }

    [Fact]
    public void Malformed_chunks_throw_either_way()
    {
        Assert.StartsWith("throws Malformed OpenAI Chat stream chunk", Assert.Single(BothPaths("""{"choices":[{"index":0,"delta":{"content":"cut""")));
        Assert.StartsWith("throws Malformed", Assert.Single(BothPaths("""{"choices":[]} {"choices":[]}""")));
        Assert.StartsWith("throws", Assert.Single(BothPaths("""["not an object"]""")));
    }
}
