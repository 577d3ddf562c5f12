using System.Text.Json;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Relay;

/// <summary>
/// Reasoning and tools in one conversation, as coding agents run them: the SDK gets reasoning and a tool call, sends
/// both back with the tool result, and gets the final answer. The upstream must receive its own reasoning back on
/// the tool turn (Anthropic refuses a thinking tool loop without it; DeepSeek wants reasoning_content beside the
/// calls), and never another provider's.
/// </summary>
internal static class ReasoningToolConversation
{
    public static async Task RunAsync(string client, string channelType)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(client + "-stream", channelType);
        SdkConversation.AssertToolConversation(channelType, sdk, upstream);

        Assert.Equal(Wire.ThinkingText, sdk.GetProperty("thinking").GetString());
        // Chat Completions cannot carry an Anthropic signature, so that tool turn continues without thinking.
        var thinkingDropped = client == "openai-chat-reasoning-tools" && channelType == "anthropic";
        Assert.Equal(thinkingDropped ? "" : Wire.ThinkingText, sdk.GetProperty("thinking2").GetString());
        if (client != "openai-chat-reasoning-tools")
        {
            var signature = sdk.GetProperty("signature").GetString();
            Assert.False(string.IsNullOrEmpty(signature));
            if (channelType == "anthropic" && client.StartsWith("anthropic")) Assert.Equal(Wire.AnthropicSignature, signature);
        }

        var body = upstream[1].Json;
        switch (channelType)
        {
            case "anthropic":
            {
                var turn = body.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("role").GetString() == "assistant");
                var opening = turn.GetProperty("content")[0];
                if (thinkingDropped)
                {
                    Assert.False(body.TryGetProperty("thinking", out _));
                    Assert.Equal("tool_use", opening.GetProperty("type").GetString());
                }
                else
                {
                    Assert.Equal("enabled", body.GetProperty("thinking").GetProperty("type").GetString());
                    Assert.Equal("thinking", opening.GetProperty("type").GetString());
                    Assert.Equal(Wire.ThinkingText, opening.GetProperty("thinking").GetString());
                    Assert.Equal(Wire.AnthropicSignature, opening.GetProperty("signature").GetString());
                }
                break;
            }
            case "openai_responses":
            {
                var reasoning = body.GetProperty("input").EnumerateArray().Where(i => i.TryGetProperty("type", out var t) && t.GetString() == "reasoning").ToList();
                if (client == "openai-chat-reasoning-tools")
                {
                    Assert.Empty(reasoning);
                }
                else
                {
                    var item = Assert.Single(reasoning);
                    Assert.Equal(Wire.ResponsesEncryptedContent, item.GetProperty("encrypted_content").GetString());
                }
                break;
            }
            case "gemini":
                Assert.Equal(Wire.GeminiSignature, SdkConversation.GeminiCallSignature(body));
                break;
            default:
            {
                var turn = body.GetProperty("messages").EnumerateArray().Single(m => m.TryGetProperty("tool_calls", out _));
                Assert.Equal(Wire.ThinkingText, turn.GetProperty("reasoning_content").GetString());
                break;
            }
        }
    }
}

public sealed class SdkChatReasoningToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelType), MemberType = typeof(SdkConversation))]
    public Task OpenAI_chat_SDK_reasoning_and_tool_call_survive_the_tool_loop_on_every_channel_type(string channelType) =>
        ReasoningToolConversation.RunAsync("openai-chat-reasoning-tools", channelType);
}

public sealed class SdkResponsesReasoningToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelType), MemberType = typeof(SdkConversation))]
    public Task OpenAI_responses_SDK_encrypted_reasoning_and_function_call_survive_the_tool_loop_on_every_channel_type(string channelType) =>
        ReasoningToolConversation.RunAsync("openai-responses-reasoning-tools", channelType);
}

public sealed class SdkAnthropicReasoningToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelType), MemberType = typeof(SdkConversation))]
    public Task Anthropic_SDK_signed_thinking_and_tool_use_survive_the_tool_loop_on_every_channel_type(string channelType) =>
        ReasoningToolConversation.RunAsync("anthropic-thinking-tools", channelType);
}

public sealed class SdkGeminiReasoningToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelType), MemberType = typeof(SdkConversation))]
    public Task Gemini_SDK_signed_thoughts_and_function_call_survive_the_tool_loop_on_every_channel_type(string channelType) =>
        ReasoningToolConversation.RunAsync("gemini-thinking-tools", channelType);
}
