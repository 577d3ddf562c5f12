using System.Buffers;
using System.Text;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

public sealed class StreamObserverTests
{
    private static List<StreamEventKind> ObserveAll(StreamObserver observer, params string[] datas)
    {
        var kinds = new List<StreamEventKind>();
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(string.Concat(datas.Select(d => "data: " + d + "\n\n"))));
        while (SseParser.TryRead(ref buffer, out var ev)) kinds.Add(observer.Observe(ev));
        return kinds;
    }

    private const string Head = """{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","created":1700000000""";

    [Fact]
    public void OpenAI_chunks_asked_for_usage_carry_a_null_usage_which_is_not_usage()
    {
        var observer = new StreamObserver(ApiProtocol.OpenAIChat);
        var kinds = ObserveAll(observer,
            Head + ""","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""",
            Head + ""","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}""",
            Head + ""","choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}],"usage":null}""",
            Head + ""","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}""",
            Head + ""","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}}""",
            "[DONE]");

        Assert.Equal([StreamEventKind.Other, StreamEventKind.Content, StreamEventKind.Content, StreamEventKind.Content, StreamEventKind.UsageOnly, StreamEventKind.Done], kinds);
        Assert.True(observer.Finished);
        Assert.Equal((19L, 10L, 3L, 2L), (observer.Usage.InputTokens, observer.Usage.OutputTokens, observer.Usage.CacheReadTokens, observer.Usage.ReasoningTokens));
        Assert.Null(observer.ErrorMessage);
    }

    [Fact]
    public void Spaced_members_after_content_are_still_seen()
    {
        var observer = new StreamObserver(ApiProtocol.OpenAIChat);
        ObserveAll(observer, """{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""");
        Assert.False(observer.Finished);

        // A server that writes spaced JSON: the finish reason is seen as it arrives (not only at [DONE]), and so is
        // usage, alone or on the same chunk.
        Assert.Equal([StreamEventKind.Content], ObserveAll(observer, """{ "choices": [ { "index": 0, "delta": {}, "finish_reason" : "length" } ] }"""));
        Assert.True(observer.Finished);
        var kinds = ObserveAll(observer, """{ "choices": [ { "index": 0, "delta": {}, "finish_reason" : "length" } ], "usage" : { "prompt_tokens": 5, "completion_tokens": 7 } }""");
        Assert.Equal([StreamEventKind.Content], kinds);
        Assert.Equal((5L, 7L), (observer.Usage.InputTokens, observer.Usage.OutputTokens));
    }

    [Fact]
    public void A_null_error_member_is_no_error_and_a_real_one_is()
    {
        var observer = new StreamObserver(ApiProtocol.OpenAIChat);
        var kinds = ObserveAll(observer,
            """{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"error":null}""",
            """{"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":null}],"error":null}""",
            """{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}""");

        Assert.Equal([StreamEventKind.Content, StreamEventKind.Content, StreamEventKind.Error], kinds);
        Assert.Equal("The server had an error while processing your request.", observer.ErrorMessage);
    }

    [Fact]
    public void Member_names_inside_text_are_text()
    {
        var observer = new StreamObserver(ApiProtocol.OpenAIChat);
        var kinds = ObserveAll(observer,
            """{"choices":[{"index":0,"delta":{"content":"Read"},"finish_reason":null}]}""",
            """{"choices":[{"index":0,"delta":{"content":"the \"usage\": {\"prompt_tokens\": 9} and \"finish_reason\": \"stop\" fields"},"finish_reason":null}]}""");

        Assert.Equal([StreamEventKind.Content, StreamEventKind.Content], kinds);
        Assert.False(observer.Finished);
        Assert.Equal(0, observer.Usage.InputTokens);
    }

    [Fact]
    public void Tool_calls_and_reasoning_are_content_and_role_only_deltas_are_not()
    {
        var toolObserver = new StreamObserver(ApiProtocol.OpenAIChat);
        Assert.Equal([StreamEventKind.Other, StreamEventKind.Content], ObserveAll(toolObserver,
            """{"choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}],"usage":null}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}],"usage":null}"""));

        var reasoningObserver = new StreamObserver(ApiProtocol.OpenAIChat);
        Assert.Equal([StreamEventKind.Content], ObserveAll(reasoningObserver,
            """{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Let me think"},"finish_reason":null}]}"""));
    }

    [Fact]
    public void Malformed_chunks_are_errors_before_and_after_content()
    {
        var before = new StreamObserver(ApiProtocol.OpenAIChat);
        Assert.Equal([StreamEventKind.Error], ObserveAll(before, """{"choices":[{"index":0,"delta":{"content":"Hi"},}]}"""));
        Assert.Equal("upstream sent malformed JSON in its stream", before.ErrorMessage);

        var after = new StreamObserver(ApiProtocol.OpenAIChat);
        Assert.Equal([StreamEventKind.Content, StreamEventKind.Error], ObserveAll(after,
            """{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
            """{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":}}"""));
        Assert.Equal(StreamEventKind.Error, ObserveAll(new StreamObserver(ApiProtocol.OpenAIChat), """{"choices":[]} {"x":1}""").Single());
    }

    private static string GeminiChunk(string text, int outputTokens, string finish = "") =>
        $$"""{"candidates": [{"content": {"parts": [{"text": "{{text}}"}],"role": "model"}{{finish}},"index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": {{outputTokens}},"totalTokenCount": {{12 + outputTokens}},"promptTokensDetails": [{"modality": "TEXT","tokenCount": 12}],"thoughtsTokenCount": 4},"modelVersion": "gemini-2.5-flash","responseId": "r1"}""";

    [Fact]
    public void Gemini_usage_is_the_last_chunk_s_and_the_finish_is_seen()
    {
        var observer = new StreamObserver(ApiProtocol.Gemini);
        var kinds = ObserveAll(observer, GeminiChunk("Hello", 1), GeminiChunk(" there", 2), GeminiChunk(" friend", 3));
        Assert.Equal([StreamEventKind.Content, StreamEventKind.Content, StreamEventKind.Content], kinds);
        Assert.False(observer.Finished);
        // Gemini's usage is cumulative: the last chunk's counts (output includes the thoughts).
        Assert.Equal((12L, 7L, 4L), (observer.Usage.InputTokens, observer.Usage.OutputTokens, observer.Usage.ReasoningTokens));

        ObserveAll(observer, GeminiChunk("!", 9, ",\"finishReason\": \"STOP\""));
        Assert.True(observer.Finished);
        Assert.Equal(13L, observer.Usage.OutputTokens);
        Assert.Equal(13L, observer.Usage.OutputTokens); // read twice, the same
    }

    [Fact]
    public void Gemini_errors_after_content_are_errors()
    {
        var observer = new StreamObserver(ApiProtocol.Gemini);
        var kinds = ObserveAll(observer, GeminiChunk("Hello", 1), """{"error": {"code": 503,"message": "The model is overloaded.","status": "UNAVAILABLE"}}""");
        Assert.Equal([StreamEventKind.Content, StreamEventKind.Error], kinds);
        Assert.Equal("The model is overloaded.", observer.ErrorMessage);
        Assert.Equal(1L, observer.Usage.OutputTokens - observer.Usage.ReasoningTokens);
    }

    [Theory]
    [InlineData("""{"usage":null}""", false)]
    [InlineData("""{"usage" : null,"a":1}""", false)]
    [InlineData("""{"usage":{}}""", true)]
    [InlineData("""{"usage" :{"x":1}}""", true)]
    [InlineData("""{"a":"usage","b":"\"usage\":1"}""", false)]
    [InlineData("""{"a":"\"usage\"","usage":{"x":1}}""", true)]
    [InlineData("""{"x_usage":{"x":1}}""", false)]
    public void Non_null_member_search(string json, bool expected) =>
        Assert.Equal(expected, StreamObserver.HasNonNullMember(Encoding.UTF8.GetBytes(json), "\"usage\""u8));
}
