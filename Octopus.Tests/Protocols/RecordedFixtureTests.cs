using System.Text.Json;
using Octopus.Protocols;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Tests.Protocols;

/// <summary>Decoders and transcoders on payloads recorded from real providers (Fixtures/recorded).</summary>
public sealed class RecordedFixtureTests
{
    [Fact]
    public void Anthropic_thinking_stream_decodes_thinking_text_and_two_tool_calls()
    {
        var got = Kit.ReadStream(ApiProtocol.Anthropic, Kit.Fixture("anthropic-think.stream.jsonl"));
        Assert.StartsWith("The user is asking for the weather", got.Thinking.ToString());
        Assert.StartsWith("I'll help you get the weather for San Francisco", got.Text.ToString());
        Assert.Equal(["get_coordinates", "get_temperature_unit"], got.Calls.Select(c => c.Name));
        Assert.True(Kit.JsonEquals("{\"location\": \"San Francisco, CA\"}", got.Calls[0].Args.ToString()));
        Assert.True(Kit.JsonEquals("{\"country\": \"United States\"}", got.Calls[1].Args.ToString()));
        Assert.Equal(StopReasons.ToolUse, got.Stop);
        Assert.Equal(587, got.Usage.InputTokens);
        Assert.Equal(226, got.Usage.OutputTokens);
        Assert.Equal("ktc", got.Order.ToString());
    }

    [Theory]
    [InlineData("anthropic-stop.stream.jsonl", "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15\n16 17 18 19 20", 21, 43)]
    [InlineData("anthropic-reasoning.stream.jsonl", "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15\n16 17 18 19 20", 21, 43)]
    public void Anthropic_text_streams_decode_text_usage_and_end_turn(string fixture, string text, long input, long output)
    {
        var got = Kit.ReadStream(ApiProtocol.Anthropic, Kit.Fixture(fixture));
        Assert.Equal(text, got.Text.ToString());
        Assert.Equal(StopReasons.EndTurn, got.Stop);
        Assert.Equal(input, got.Usage.InputTokens);
        Assert.Equal(output, got.Usage.OutputTokens);
    }

    [Fact]
    public void Anthropic_parallel_tool_stream_keeps_both_calls()
    {
        var got = Kit.ReadStream(ApiProtocol.Anthropic, Kit.Fixture("anthropic-parallel_multiple_tool.stream.jsonl"));
        Assert.Equal(2, got.Calls.Count);
        Assert.All(got.Calls, c => Assert.True(Kit.JsonEquals("{\"user_id\": \"123\"}", c.Args.ToString())));
        Assert.NotEqual(got.Calls[0].Id, got.Calls[1].Id);
    }

    [Fact]
    public void OpenAI_stop_stream_decodes_text_and_usage()
    {
        var got = Kit.ReadStream(ApiProtocol.OpenAIChat, Kit.Fixture("openai-stop.stream.jsonl"));
        var expected = Kit.Json(Kit.Fixture("openai-stop.response.json")).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        Assert.Equal(expected, got.Text.ToString());
        Assert.Equal(StopReasons.EndTurn, got.Stop);
        Assert.Equal(19, got.Usage.InputTokens);
        Assert.Equal(65, got.Usage.OutputTokens);
    }

    [Theory]
    [InlineData("openai-tool.stream.jsonl", new[] { "get_weather" })]
    [InlineData("openai-tool_2.stream.jsonl", new[] { "get_user_city" })]
    [InlineData("openai-parallel_multiple_tool.stream.jsonl", new[] { "get_user_city", "get_user_language" })]
    [InlineData("openai-multiple_choice_tool_3.stream.jsonl", new[] { "get_user_city", "get_user_language" })]
    public void OpenAI_tool_streams_decode_each_call_with_valid_arguments(string fixture, string[] names)
    {
        var got = Kit.ReadStream(ApiProtocol.OpenAIChat, Kit.Fixture(fixture));
        Assert.Equal(names, got.Calls.Select(c => c.Name));
        Assert.All(got.Calls, c => Assert.True(JsonRead.IsJsonObject(c.Args.ToString()), c.Args.ToString()));
        Assert.Equal(StopReasons.ToolUse, got.Stop);
    }

    [Fact]
    public void DeepSeek_reasoning_stream_decodes_reasoning_content_as_thinking()
    {
        var got = Kit.ReadStream(ApiProtocol.OpenAIChat, Kit.Fixture("deepseek-reasoninig.stream.jsonl"));
        var message = Kit.Json(Kit.Fixture("deepseek-reasoning.response.json")).GetProperty("choices")[0].GetProperty("message");
        Assert.StartsWith("We are going to output", got.Thinking.ToString());
        Assert.StartsWith("To output numbers from 1 to 20", got.Text.ToString());
        Assert.Equal("kt", got.Order.ToString());
        Assert.Equal(450, got.Usage.ReasoningTokens);
        Assert.Equal(16, got.Usage.InputTokens);
        Assert.NotNull(message.GetProperty("reasoning_content").GetString());
    }

    [Theory]
    [InlineData("anthropic-stop.response.json", "anthropic")]
    [InlineData("anthropic-think.response.json", "anthropic")]
    [InlineData("anthropic-tool.response.json", "anthropic")]
    [InlineData("openai-stop.response.json", "openai_chat")]
    [InlineData("openai-tool.response.json", "openai_chat")]
    [InlineData("openai-tool_2.response.json", "openai_chat")]
    [InlineData("openai-parallel_multiple_tool.response.json", "openai_chat")]
    [InlineData("openai-multiple_choice_tool.response.json", "openai_chat")]
    [InlineData("openai-multiple_choice_tool_3.response.json", "openai_chat")]
    [InlineData("deepseek-reasoning.response.json", "openai_chat")]
    public void Recorded_responses_convert_to_every_client_protocol(string fixture, string upstreamWire)
    {
        var upstream = Kit.P(upstreamWire);
        var body = Kit.Fixture(fixture);
        var original = Kit.DecodeResponse(upstream, body);
        foreach (var client in Kit.All)
        {
            var converted = Converter.ConvertResponse(upstream, client, body, "client-model");
            var back = Kit.DecodeResponse(client, converted.Body);
            Assert.Equal(string.Concat(original.Parts.OfType<TextPart>().Select(t => t.Text)), string.Concat(back.Parts.OfType<TextPart>().Select(t => t.Text)));
            Assert.Equal(original.Parts.OfType<ToolCallPart>().Select(c => c.Name), back.Parts.OfType<ToolCallPart>().Select(c => c.Name));
            Assert.Equal(original.Parts.OfType<ThinkingPart>().Select(t => t.Text), back.Parts.OfType<ThinkingPart>().Select(t => t.Text));
            Assert.Equal(ConversionMatrixTests.Family(original.StopReason), ConversionMatrixTests.Family(back.StopReason));
            Assert.Equal(original.Usage.InputTokens, converted.Usage.InputTokens);
            Assert.Equal(original.Usage.OutputTokens, back.Usage.OutputTokens);
        }
    }

    [Theory]
    [InlineData("anthropic-think.stream.jsonl", "anthropic")]
    [InlineData("anthropic-tool.stream.jsonl", "anthropic")]
    [InlineData("anthropic-parallel_multiple_tool.stream.jsonl", "anthropic")]
    [InlineData("anthropic-stop.stream.jsonl", "anthropic")]
    [InlineData("openai-stop.stream.jsonl", "openai_chat")]
    [InlineData("openai-tool.stream.jsonl", "openai_chat")]
    [InlineData("openai-parallel_multiple_tool.stream.jsonl", "openai_chat")]
    [InlineData("openai-multiple_choice_tool_3.stream.jsonl", "openai_chat")]
    [InlineData("deepseek-reasoninig.stream.jsonl", "openai_chat")]
    public void Recorded_streams_transcode_to_every_client_protocol(string fixture, string upstreamWire)
    {
        var upstream = Kit.P(upstreamWire);
        var sse = Kit.Fixture(fixture);
        var original = Kit.ReadStream(upstream, sse);
        foreach (var client in Kit.All)
        {
            if (client == upstream) continue;
            var output = Kit.Transcode(upstream, client, sse, out var t);
            var got = Kit.ReadStream(client, output);
            Assert.Equal(original.Text.ToString(), got.Text.ToString());
            Assert.Equal(original.Thinking.ToString(), got.Thinking.ToString());
            Assert.Equal(original.Calls.Select(c => c.Name), got.Calls.Select(c => c.Name));
            for (var i = 0; i < original.Calls.Count; i++)
                Assert.True(Kit.JsonEquals(original.Calls[i].Args.ToString(), got.Calls[i].Args.ToString()));
            Assert.Equal(original.Stop, got.Stop);
            Assert.Equal(original.Usage.InputTokens, t.Usage.InputTokens);
            Assert.Equal(original.Usage.OutputTokens, t.Usage.OutputTokens);
            Assert.Null(got.Error);
        }
    }

    [Theory]
    [InlineData("anthropic-claude-code.request.json")]
    [InlineData("anthropic-claude-code2.request.json")]
    [InlineData("anthropic-tool.request.json")]
    [InlineData("anthropic-multimodal-inbound.request.json")]
    [InlineData("anthropic-simple-inbound.request.json")]
    public void Recorded_Anthropic_requests_convert_to_every_upstream(string fixture)
    {
        var body = Kit.Fixture(fixture);
        var original = Kit.DecodeRequest(ApiProtocol.Anthropic, body);
        foreach (var upstream in Kit.All)
        {
            if (upstream == ApiProtocol.Anthropic) continue;
            var converted = Converter.ConvertRequest(ApiProtocol.Anthropic, upstream, body, Kit.Options());
            var back = Kit.DecodeRequest(upstream, converted);
            Assert.Equal(original.Tools.Select(t => t.Name), back.Tools.Select(t => t.Name));
            Assert.Equal(Kit.PartsOf<ToolCallPart>(original).Select(c => c.Name), Kit.PartsOf<ToolCallPart>(back).Select(c => c.Name));
            Assert.Equal(Kit.PartsOf<ToolResultPart>(original).Count(), Kit.PartsOf<ToolResultPart>(back).Count());
            Assert.Equal(Kit.PartsOf<ImagePart>(original).Count(), Kit.PartsOf<ImagePart>(back).Count());
            if (original.Messages[0].Role == Role.System) Assert.Equal(Role.System, back.Messages[0].Role);
            // Tool schemas are written through byte for byte.
            for (var i = 0; i < original.Tools.Count; i++) Assert.Equal(original.Tools[i].Parameters, back.Tools[i].Parameters);
        }
    }

    [Fact]
    public void Claude_code_request_to_OpenAI_joins_system_blocks_and_keeps_tool_call_ids()
    {
        var body = Kit.Fixture("anthropic-claude-code2.request.json");
        var converted = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, body, Kit.Options("deepseek-chat")));
        var messages = converted.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.StartsWith("You are Claude Code", messages[0].GetProperty("content").GetString());
        var ids = messages.EnumerateArray().Where(m => m.TryGetProperty("tool_calls", out _))
            .SelectMany(m => m.GetProperty("tool_calls").EnumerateArray().Select(c => c.GetProperty("id").GetString())).ToList();
        var answered = messages.EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool")
            .Select(m => m.GetProperty("tool_call_id").GetString()).ToList();
        Assert.NotEmpty(ids);
        Assert.All(answered, id => Assert.Contains(id, ids));
        Assert.Equal(21333, converted.GetProperty("max_tokens").GetInt32());
    }

    [Theory]
    [InlineData("openai-tool.request.json")]
    [InlineData("openai-parallel_tool.request.json")]
    public void Recorded_OpenAI_requests_convert_to_every_upstream(string fixture)
    {
        var body = Kit.Fixture(fixture);
        var original = Kit.DecodeRequest(ApiProtocol.OpenAIChat, body);
        foreach (var upstream in Kit.All)
        {
            if (upstream == ApiProtocol.OpenAIChat) continue;
            var back = Kit.DecodeRequest(upstream, Converter.ConvertRequest(ApiProtocol.OpenAIChat, upstream, body, Kit.Options()));
            Assert.Equal(original.Tools.Select(t => t.Name), back.Tools.Select(t => t.Name));
            Assert.Equal(original.Messages.Select(Kit.TextOf), back.Messages.Select(Kit.TextOf));
            // Anthropic can only say "not parallel"; Gemini has no switch at all.
            if (upstream == ApiProtocol.OpenAIResponses) Assert.Equal(original.ParallelToolCalls, back.ParallelToolCalls);
        }
    }
}
