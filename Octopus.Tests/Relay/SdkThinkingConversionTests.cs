using System.Text.Json;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Relay;

/// <summary>
/// anthropic messages (stream helper and create) with extended thinking: the SDK receives a thinking block with text and a signature
/// from every channel type, sends it back in the history, and gets the next answer. The signature is the upstream's
/// own for an Anthropic channel and tagged with its origin otherwise; the upstream gets back only what it minted.
/// </summary>
public sealed class SdkThinkingConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelTypeStreamedAndNot), MemberType = typeof(SdkConversation))]
    public async Task Anthropic_SDK_thinking_block_arrives_signed_and_goes_back_in_history_on_every_channel_type(string channelType, bool streamed)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(SdkConversation.Scenario("anthropic-thinking", streamed), channelType);

        Assert.Equal(Wire.ThinkingText, sdk.GetProperty("thinking").GetString());
        var blocks = sdk.GetProperty("thinking_blocks");
        Assert.Equal(1, blocks.GetArrayLength());
        Assert.Equal(Wire.ThinkingText, blocks[0].GetProperty("thinking").GetString());
        var signature = blocks[0].GetProperty("signature").GetString();
        Assert.False(string.IsNullOrEmpty(signature));
        Assert.Equal(1, sdk.GetProperty("signature_events").GetInt32());
        Assert.Equal(channelType switch
        {
            "anthropic" => Wire.AnthropicSignature,
            "openai_responses" => "octopus:openai_responses:" + Wire.ResponsesEncryptedContent,
            "gemini" => "octopus:gemini:" + Wire.GeminiSignature,
            _ => "octopus:openai_chat:",
        }, signature);
        Assert.Equal(["thinking", "text"], sdk.GetProperty("block_types1").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Hello from sdk", sdk.GetProperty("text1").GetString());
        Assert.Equal("Hello from sdk", sdk.GetProperty("final_text").GetString());
        Assert.Equal("end_turn", sdk.GetProperty("stop2").GetString());

        Assert.Equal(2, upstream.Length);
        AssertAskedForThinking(channelType, upstream[0].Json);
        AssertThinkingInHistory(channelType, upstream[1].Json);
    }

    /// <summary>budget_tokens 1024 in each upstream's own terms.</summary>
    private static void AssertAskedForThinking(string channelType, JsonElement body)
    {
        switch (channelType)
        {
            case "anthropic":
                Assert.Equal(1024, body.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
                break;
            case "openai_responses":
                Assert.Equal("low", body.GetProperty("reasoning").GetProperty("effort").GetString());
                Assert.Contains("reasoning.encrypted_content", body.GetProperty("include").EnumerateArray().Select(e => e.GetString()));
                break;
            case "gemini":
                var config = body.GetProperty("generationConfig").GetProperty("thinkingConfig");
                Assert.Equal(1024, config.GetProperty("thinkingBudget").GetInt32());
                Assert.True(config.GetProperty("includeThoughts").GetBoolean());
                break;
            case "volcengine":
                Assert.Equal("enabled", body.GetProperty("thinking").GetProperty("type").GetString());
                Assert.Equal("low", body.GetProperty("reasoning_effort").GetString());
                break;
            default:
                Assert.Equal("low", body.GetProperty("reasoning_effort").GetString());
                break;
        }
    }

    /// <summary>The second request carries the first turn's reasoning back only to the provider that can verify it.</summary>
    private static void AssertThinkingInHistory(string channelType, JsonElement body)
    {
        switch (channelType)
        {
            case "anthropic":
            {
                var assistant = body.GetProperty("messages")[1];
                var thinking = assistant.GetProperty("content")[0];
                Assert.Equal("thinking", thinking.GetProperty("type").GetString());
                Assert.Equal(Wire.AnthropicSignature, thinking.GetProperty("signature").GetString());
                break;
            }
            case "openai_responses":
            {
                var reasoning = body.GetProperty("input").EnumerateArray().Single(i => i.TryGetProperty("type", out var t) && t.GetString() == "reasoning");
                Assert.Equal(Wire.ResponsesEncryptedContent, reasoning.GetProperty("encrypted_content").GetString());
                Assert.Equal(Wire.ThinkingText, reasoning.GetProperty("summary")[0].GetProperty("text").GetString());
                break;
            }
            case "gemini":
            {
                var model = body.GetProperty("contents").EnumerateArray().Single(c => c.GetProperty("role").GetString() == "model");
                var thought = model.GetProperty("parts")[0];
                Assert.True(thought.GetProperty("thought").GetBoolean());
                Assert.Equal(Wire.ThinkingText, thought.GetProperty("text").GetString());
                Assert.Equal(Wire.GeminiSignature, thought.GetProperty("thoughtSignature").GetString());
                Assert.Equal("Hello from sdk", model.GetProperty("parts")[1].GetProperty("text").GetString());
                break;
            }
            default:
            {
                // Chat Completions takes reasoning back only beside tool calls (DeepSeek); a text turn goes back plain.
                var assistant = body.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "assistant");
                Assert.Equal("Hello from sdk", assistant.GetProperty("content").GetString());
                Assert.False(assistant.TryGetProperty("reasoning_content", out _));
                break;
            }
        }
    }
}
