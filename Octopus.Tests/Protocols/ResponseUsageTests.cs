using System.Text;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;

namespace Octopus.Tests.Protocols;

/// <summary>
/// The relay's one pass over a passed-through non-stream reply: it must be exactly one JSON object, and its
/// top-level usage (each protocol's shape, cache tokens included) is what gets counted.
/// </summary>
public sealed class ResponseUsageTests
{
    private static (bool Ok, Octopus.Domain.Usage Usage) Read(ApiProtocol protocol, string body)
    {
        var ok = UsageJson.TryReadResponse(protocol, Encoding.UTF8.GetBytes(body), out var usage);
        return (ok, usage);
    }

    [Fact]
    public void Reads_each_protocols_usage_with_cache_and_reasoning_tokens()
    {
        var chat = Read(ApiProtocol.OpenAIChat, """
            {"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":120,"completion_tokens":30,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":7}}}
            """);
        Assert.True(chat.Ok);
        Assert.Equal((120, 30, 100, 7), (chat.Usage.InputTokens, chat.Usage.OutputTokens, chat.Usage.CacheReadTokens, chat.Usage.ReasoningTokens));

        var responses = Read(ApiProtocol.OpenAIResponses, """
            {"id":"r","output":[{"type":"message","content":[{"type":"output_text","text":"hi"}]}],
             "usage":{"input_tokens":50,"output_tokens":9,"input_tokens_details":{"cached_tokens":40},"output_tokens_details":{"reasoning_tokens":3}}}
            """);
        Assert.True(responses.Ok);
        Assert.Equal((50, 9, 40, 3), (responses.Usage.InputTokens, responses.Usage.OutputTokens, responses.Usage.CacheReadTokens, responses.Usage.ReasoningTokens));

        // Anthropic's input_tokens leaves out cache reads and writes; ours includes them.
        var anthropic = Read(ApiProtocol.Anthropic, """
            {"id":"m","type":"message","content":[{"type":"text","text":"hi"}],
             "usage":{"input_tokens":10,"cache_read_input_tokens":200,"cache_creation_input_tokens":30,"output_tokens":12}}
            """);
        Assert.True(anthropic.Ok);
        Assert.Equal((240, 12, 200, 30), (anthropic.Usage.InputTokens, anthropic.Usage.OutputTokens, anthropic.Usage.CacheReadTokens, anthropic.Usage.CacheWriteTokens));

        var gemini = Read(ApiProtocol.Gemini, """
            {"candidates":[{"content":{"parts":[{"text":"hi"}]}}],
             "usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":20,"thoughtsTokenCount":5,"cachedContentTokenCount":64}}
            """);
        Assert.True(gemini.Ok);
        Assert.Equal((80, 25, 64, 5), (gemini.Usage.InputTokens, gemini.Usage.OutputTokens, gemini.Usage.CacheReadTokens, gemini.Usage.ReasoningTokens));
    }

    [Fact]
    public void Only_the_top_level_usage_counts()
    {
        var (ok, usage) = Read(ApiProtocol.OpenAIChat, """
            {"choices":[{"message":{"content":"{}","usage":{"prompt_tokens":999}}}],"metadata":{"usage":{"prompt_tokens":888}},"usage":{"prompt_tokens":5,"completion_tokens":1}}
            """);
        Assert.True(ok);
        Assert.Equal(5, usage.InputTokens);
    }

    [Fact]
    public void A_reply_without_usage_is_valid_and_counts_nothing()
    {
        var (ok, usage) = Read(ApiProtocol.OpenAIChat, """{"id":"c","choices":[],"usage":null}""");
        Assert.True(ok);
        Assert.Equal(0, usage.InputTokens + usage.OutputTokens);
    }

    [Theory]
    [InlineData("""{"id":"c","choices":[{"message":{"content":"cut here""")]
    [InlineData("""{"id":"c","usage":{"prompt_tokens":5}} trailing""")]
    [InlineData("""{"id":"c"}{"id":"d"}""")]
    [InlineData("""[{"id":"c"}]""")]
    [InlineData("""<html>502 Bad Gateway</html>""")]
    [InlineData("")]
    public void Anything_but_exactly_one_json_object_is_refused(string body)
    {
        var (ok, usage) = Read(ApiProtocol.OpenAIChat, body);
        Assert.False(ok);
        Assert.Equal(0, usage.InputTokens);
    }
}
