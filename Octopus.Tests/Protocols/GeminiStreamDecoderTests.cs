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
}
