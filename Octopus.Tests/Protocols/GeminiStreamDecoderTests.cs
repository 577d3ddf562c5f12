using System.Buffers;
using System.Text;
using Octopus.Protocols.Gemini;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

public sealed class GeminiStreamDecoderTests
{
    private static List<string> Decode(params string[] datas)
    {
        var sink = new RecordingSink();
        var decoder = new GeminiStreamDecoder();
        foreach (var data in datas)
        {
            var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("data: " + data + "\r\n\r\n"));
            Assert.True(SseParser.TryRead(ref buffer, out var ev));
            decoder.OnEvent(ev, sink);
        }
        return sink.Calls;
    }

    [Fact]
    public void Snake_case_chunks_read_as_camel_case_ones()
    {
        // Gemini's proto JSON accepts both spellings; compatible servers send either, the same names again and again.
        for (var round = 0; round < 2; round++)
        {
            var camel = Decode(
                """{"candidates":[{"content":{"parts":[{"text":"Let me think","thought":true,"thoughtSignature":"c2ln"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":1},"modelVersion":"gemini-2.5-flash","responseId":"r1"}""",
                """{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"thoughtsTokenCount":3}}""");
            var snake = Decode(
                """{"candidates":[{"content":{"parts":[{"text":"Let me think","thought":true,"thought_signature":"c2ln"}],"role":"model"},"index":0}],"usage_metadata":{"prompt_token_count":12,"candidates_token_count":1},"model_version":"gemini-2.5-flash","response_id":"r1"}""",
                """{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finish_reason":"STOP","index":0}],"usage_metadata":{"prompt_token_count":12,"candidates_token_count":5,"thoughts_token_count":3}}""");
            Assert.Equal(camel, snake);
            Assert.Equal(["usage 12 1", "start r1 gemini-2.5-flash", "thinking Let me think", "signature c2ln", "usage 12 8", "text Hello", "finish end_turn"], camel);
        }
    }

    /// <summary>A chunk decoded as a stream's first (document path) and as a later one (reader path for text chunks).</summary>
    private static List<string> BothPaths(string chunk)
    {
        var later = Decode("""{"candidates":[],"responseId":"r0"}""", chunk).Where(c => !c.StartsWith("start ")).ToList();
        Assert.Equal(Decode(chunk).Where(c => !c.StartsWith("start ")).ToList(), later);
        return later;
    }

    [Fact]
    public void Text_chunks_read_the_same_either_way()
    {
        Assert.Equal(["usage 12 5", "text Hello"], BothPaths("""{"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 5,"totalTokenCount": 17,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 12}]},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"""));
        Assert.Equal(["usage 20 9", "thinking Plan: ", "text a\"b \u00e9"], BothPaths("""{"candidates":[{"content":{"parts":[{"text":"Plan: ","thought":true},{"text":"a\"b \u00e9"}]}}],"usage_metadata":{"prompt_token_count":12,"tool_use_prompt_token_count":8,"candidates_token_count":5,"thoughts_token_count":4,"cached_content_token_count":3}}"""));
        Assert.Equal(["text no usage"], BothPaths("""{"candidates":[{"content":{"parts":[{"text":"no usage"}]},"safetyRatings":[{"category":"HARM_CATEGORY_HATE_SPEECH","probability":"NEGLIGIBLE"}]}],"usageMetadata":null}"""));
        Assert.Equal(["text "], BothPaths("""{"candidates":[{"content":{"parts":[{"text":""}]}}]}"""));
    }

    [Fact]
    public void Other_chunks_take_the_document_path()
    {
        Assert.Equal(["usage 12 6", "text !", "finish end_turn"], BothPaths("""{"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":6}}"""));
        Assert.Equal(["signature c2ln", "text signed"], BothPaths("""{"candidates":[{"content":{"parts":[{"text":"signed","thoughtSignature":"c2ln"}]}}]}"""));
        Assert.Equal(["call 0 call_1 get_weather", "args 0 {\"city\":\"Paris\"}", "end"], BothPaths("""{"candidates":[{"content":{"parts":[{"functionCall":{"id":"call_1","name":"get_weather","args":{"city":"Paris"}}}]}}]}"""));
        Assert.Equal(["error 503 overloaded"], BothPaths("""{"error":{"code":503,"message":"overloaded"}}"""));
        Assert.Equal(["text first"], BothPaths("""{"candidates":[{"content":{"parts":[{"text":"first"}]},"index":0},{"content":{"parts":[{"text":"second"}]},"index":1}]}"""));
        Assert.Equal(["finish content_filter"], BothPaths("""{"promptFeedback":{"blockReason":"SAFETY"}}"""));
        Assert.Empty(BothPaths("""{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]}}]}"""));
    }
}
