using System.Text.Json;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// One official SDK conversation against one channel type: a real Octopus, a mock upstream of that type, and the
/// SDK driven by client.mjs. Returns what the SDK parsed and what the upstream received.
/// </summary>
internal static class SdkConversation
{
    public const string Group = "any-model";
    public const string ToolResult = "Sunny, 22 C in Paris";

    public static TheoryData<string> EveryChannelType() => new(ChannelTypes.All);

    /// <summary>Every channel type, with the SDK streaming and not.</summary>
    public static TheoryData<string, bool> EveryChannelTypeStreamedAndNot()
    {
        var data = new TheoryData<string, bool>();
        foreach (var type in ChannelTypes.All)
        {
            data.Add(type, true);
            data.Add(type, false);
        }
        return data;
    }

    public static string Scenario(string name, bool streamed) => streamed ? name + "-stream" : name;

    public static async Task<(JsonElement Sdk, MockUpstream.Received[] Upstream)> RunAsync(string scenario, string channelType)
    {
        Assert.True(ChannelTypes.TryParse(channelType, out var type));
        await using var host = await StartAsync();
        await using var mock = await MockUpstream.StartAsync("sdk");
        var channel = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync(Group, GroupMode.Failover, [Member(channel)]);
        var key = await host.AddApiKeyAsync();
        var sdk = await SdkClient.RunAsync(scenario, host.BaseUrl, key, Group, new Dictionary<string, string> { ["OCTOPUS_TOOL_RESULT"] = ToolResult });
        return (sdk, mock.Requests.ToArray());
    }

    public static bool JsonEquals(string expected, JsonElement actual) =>
        JsonNodeEquals(JsonDocument.Parse(expected).RootElement, actual);

    private static bool JsonNodeEquals(JsonElement a, JsonElement b) => System.Text.Json.Nodes.JsonNode.DeepEquals(
        System.Text.Json.Nodes.JsonNode.Parse(a.GetRawText()), System.Text.Json.Nodes.JsonNode.Parse(b.GetRawText()));

    /// <summary>
    /// What the SDK parsed from the tool call (name and arguments object) and from the final answer (text that quotes
    /// the tool result); and that the second upstream request carried the call and its result, paired, in the
    /// upstream's own protocol.
    /// </summary>
    public static void AssertToolConversation(string channelType, JsonElement sdk, MockUpstream.Received[] upstream)
    {
        var tool = sdk.GetProperty("tool");
        Assert.Equal(Wire.ToolName, tool.GetProperty("name").GetString());
        Assert.True(JsonEquals(Wire.ToolArguments, tool.GetProperty("arguments")), tool.GetProperty("arguments").GetRawText());
        Assert.Equal(1, sdk.GetProperty("tool_calls").GetInt32());
        var expected = $"sdk read the tool result: {ToolResult}";
        Assert.Equal(expected, sdk.GetProperty("final_text").GetString());
        Assert.Equal(expected, sdk.GetProperty("text").GetString());

        Assert.Equal(2, upstream.Length);
        Assert.All(upstream, r => Assert.Equal("upstream-model", r.Model));
        var (callId, callName, callArgs, resultId, resultText) = UpstreamToolTurn(channelType, upstream[1].Json);
        Assert.Equal(Wire.ToolName, callName);
        Assert.True(JsonEquals(Wire.ToolArguments, callArgs), callArgs.GetRawText());
        Assert.Equal(callId, resultId);
        Assert.Contains(ToolResult, resultText);
        // The upstream's own call id came back to it unchanged (Gemini calls have none: they pair by name).
        var minted = channelType switch
        {
            "anthropic" => Wire.AnthropicCallId,
            "openai_responses" => Wire.ResponsesCallId,
            "gemini" => Wire.ToolName,
            _ => Wire.ChatCallId,
        };
        Assert.Equal(minted, callId);
    }

    /// <summary>The (last) tool call and tool result in an upstream request's history, in that protocol's terms.</summary>
    private static (string CallId, string CallName, JsonElement CallArgs, string ResultId, string ResultText) UpstreamToolTurn(string channelType, JsonElement body)
    {
        string callId = "", callName = "", resultId = "", resultText = "";
        JsonElement callArgs = default;
        switch (channelType)
        {
            case "anthropic":
                foreach (var m in body.GetProperty("messages").EnumerateArray())
                {
                    if (m.GetProperty("content").ValueKind != JsonValueKind.Array) continue;
                    foreach (var b in m.GetProperty("content").EnumerateArray())
                    {
                        if (b.GetProperty("type").GetString() == "tool_use")
                            (callId, callName, callArgs) = (b.GetProperty("id").GetString()!, b.GetProperty("name").GetString()!, b.GetProperty("input"));
                        if (b.GetProperty("type").GetString() == "tool_result")
                            (resultId, resultText) = (b.GetProperty("tool_use_id").GetString()!, b.GetProperty("content").ValueKind == JsonValueKind.String
                                ? b.GetProperty("content").GetString()! : b.GetProperty("content").GetRawText());
                    }
                }
                break;
            case "openai_responses":
                foreach (var item in body.GetProperty("input").EnumerateArray())
                {
                    if (!item.TryGetProperty("type", out var t)) continue;
                    if (t.GetString() == "function_call")
                        (callId, callName, callArgs) = (item.GetProperty("call_id").GetString()!, item.GetProperty("name").GetString()!,
                            JsonDocument.Parse(item.GetProperty("arguments").GetString()!).RootElement);
                    if (t.GetString() == "function_call_output")
                        (resultId, resultText) = (item.GetProperty("call_id").GetString()!, item.GetProperty("output").GetString()!);
                }
                break;
            case "gemini":
                foreach (var c in body.GetProperty("contents").EnumerateArray())
                {
                    foreach (var p in c.GetProperty("parts").EnumerateArray())
                    {
                        if (p.TryGetProperty("functionCall", out var fc))
                            (callId, callName, callArgs) = (fc.GetProperty("name").GetString()!, fc.GetProperty("name").GetString()!, fc.GetProperty("args"));
                        if (p.TryGetProperty("functionResponse", out var fr))
                            (resultId, resultText) = (fr.GetProperty("name").GetString()!, fr.GetProperty("response").GetRawText());
                    }
                }
                break;
            default:
                foreach (var m in body.GetProperty("messages").EnumerateArray())
                {
                    if (m.TryGetProperty("tool_calls", out var calls))
                    {
                        var call = calls[0];
                        (callId, callName, callArgs) = (call.GetProperty("id").GetString()!, call.GetProperty("function").GetProperty("name").GetString()!,
                            JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement);
                    }
                    if (m.GetProperty("role").GetString() == "tool")
                        (resultId, resultText) = (m.GetProperty("tool_call_id").GetString()!, m.GetProperty("content").GetString()!);
                }
                break;
        }
        return (callId, callName, callArgs, resultId, resultText);
    }

    /// <summary>The thoughtSignature on the Gemini upstream's function call in the second request.</summary>
    public static string? GeminiCallSignature(JsonElement body)
    {
        foreach (var c in body.GetProperty("contents").EnumerateArray())
            foreach (var p in c.GetProperty("parts").EnumerateArray())
                if (p.TryGetProperty("functionCall", out _))
                    return p.TryGetProperty("thoughtSignature", out var s) ? s.GetString() : null;
        return null;
    }
}

// One class per SDK: xunit runs classes in parallel, cases within a class one after another.

/// <summary>openai chat.completions (stream helper and create): tool call deltas → tool message → final text, on every channel type.</summary>
public sealed class SdkChatToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelTypeStreamedAndNot), MemberType = typeof(SdkConversation))]
    public async Task OpenAI_chat_SDK_parses_a_tool_call_and_answers_its_result_on_every_channel_type(string channelType, bool streamed)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(SdkConversation.Scenario("openai-chat-tools", streamed), channelType);
        SdkConversation.AssertToolConversation(channelType, sdk, upstream);
        Assert.Equal("tool_calls", sdk.GetProperty("finish1").GetString());
        Assert.Equal("stop", sdk.GetProperty("finish2").GetString());
        Assert.Equal(Wire.OutputTokens, sdk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        if (channelType == "gemini")
        {
            // The call's signature reached the client as extra_content.google and came back on the call.
            Assert.Equal(Wire.GeminiSignature, SdkConversation.GeminiCallSignature(upstream[1].Json));
        }
    }
}

/// <summary>openai responses (stream helper and create): function_call item → function_call_output → final text, on every channel type.</summary>
public sealed class SdkResponsesToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelTypeStreamedAndNot), MemberType = typeof(SdkConversation))]
    public async Task OpenAI_responses_SDK_parses_a_function_call_and_answers_its_output_on_every_channel_type(string channelType, bool streamed)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(SdkConversation.Scenario("openai-responses-tools", streamed), channelType);
        SdkConversation.AssertToolConversation(channelType, sdk, upstream);
        Assert.Equal("completed", sdk.GetProperty("status1").GetString());
        Assert.Equal("completed", sdk.GetProperty("status2").GetString());
        Assert.Equal(Wire.OutputTokens, sdk.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        if (channelType == "gemini")
        {
            // Gemini's call signature travels as an encrypted reasoning item before the call, and returns to the call.
            Assert.Equal(["reasoning", "function_call"], sdk.GetProperty("output_types1").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(Wire.GeminiSignature, SdkConversation.GeminiCallSignature(upstream[1].Json));
        }
    }
}

/// <summary>anthropic messages (stream helper and create): tool_use block → tool_result → final text, on every channel type.</summary>
public sealed class SdkAnthropicToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelTypeStreamedAndNot), MemberType = typeof(SdkConversation))]
    public async Task Anthropic_SDK_parses_a_tool_use_and_answers_its_result_on_every_channel_type(string channelType, bool streamed)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(SdkConversation.Scenario("anthropic-tools", streamed), channelType);
        SdkConversation.AssertToolConversation(channelType, sdk, upstream);
        Assert.Equal("tool_use", sdk.GetProperty("stop1").GetString());
        Assert.Equal("end_turn", sdk.GetProperty("stop2").GetString());
        Assert.Equal(Wire.OutputTokens, sdk.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        if (channelType == "gemini")
        {
            // Anthropic has no field for a call's signature: it rides on an empty thinking block right before the call.
            Assert.Equal(["thinking", "tool_use"], sdk.GetProperty("block_types1").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(Wire.GeminiSignature, SdkConversation.GeminiCallSignature(upstream[1].Json));
        }
        else
        {
            Assert.Equal(["tool_use"], sdk.GetProperty("block_types1").EnumerateArray().Select(e => e.GetString()));
        }
    }
}

/// <summary>@google/genai generateContentStream() and generateContent(): functionCall part → functionResponse → final text, on every channel type.</summary>
public sealed class SdkGeminiToolConversionTests
{
    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelTypeStreamedAndNot), MemberType = typeof(SdkConversation))]
    public async Task Gemini_SDK_parses_a_function_call_and_answers_its_response_on_every_channel_type(string channelType, bool streamed)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync(SdkConversation.Scenario("gemini-tools", streamed), channelType);
        SdkConversation.AssertToolConversation(channelType, sdk, upstream);
        Assert.Equal("STOP", sdk.GetProperty("finish2").GetString());
        Assert.Equal(Wire.OutputTokens, sdk.GetProperty("usage").GetProperty("candidatesTokenCount").GetInt32());
        if (channelType == "gemini")
        {
            Assert.True(sdk.GetProperty("call_signed").GetBoolean());
            Assert.Equal(Wire.GeminiSignature, SdkConversation.GeminiCallSignature(upstream[1].Json));
        }
    }
}
