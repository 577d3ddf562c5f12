using System.Buffers;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Tests.Protocols;

/// <summary>Failures other gateways shipped; each has its own test.</summary>
public sealed class PitfallTests
{
    private static string Chunk(string delta, string? finish = null) =>
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" + delta
        + ",\"finish_reason\":" + (finish is null ? "null" : "\"" + finish + "\"") + "}]}\n\n";

    private static List<JsonElement> AnthropicEvents(byte[] sse) =>
        Kit.ParseSse(sse).Where(e => e.HasData).Select(e => Kit.Json(e.Data.ToArray())).ToList();

    [Fact]
    public void OpenAI_reasoning_with_signature_streams_to_Anthropic_once_and_keeps_the_signature()
    {
        // OpenRouter-style: the same reasoning text arrives in `reasoning` and in `reasoning_details` with a signature.
        var upstream = Kit.Sse(
            Chunk("{\"role\":\"assistant\",\"reasoning\":\"Think \",\"reasoning_details\":[{\"type\":\"reasoning.text\",\"text\":\"Think \"}]}")
            + Chunk("{\"reasoning\":\"hard.\",\"reasoning_details\":[{\"type\":\"reasoning.text\",\"text\":\"hard.\",\"signature\":\"EqQBCkYI\"}]}")
            + Chunk("{\"content\":\"Done\"}")
            + Chunk("{}", "stop") + "data: [DONE]\n\n");
        var output = Kit.Transcode(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, upstream, out _);
        var events = AnthropicEvents(output);

        var thinking = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "content_block_delta" && e.GetProperty("delta").GetProperty("type").GetString() == "thinking_delta")
            .Select(e => e.GetProperty("delta").GetProperty("thinking").GetString()));
        Assert.Equal("Think hard.", thinking);
        var signatures = events.Where(e => e.GetProperty("type").GetString() == "content_block_delta" && e.GetProperty("delta").GetProperty("type").GetString() == "signature_delta")
            .Select(e => e.GetProperty("delta").GetProperty("signature").GetString()).ToList();
        Assert.Equal(["octopus:openai_chat:EqQBCkYI"], signatures);
    }

    /// <summary>Builds the next Anthropic request from an assistant content array the client received.</summary>
    private static byte[] NextAnthropicTurn(string assistantContentJson, string toolUseId) => Kit.Sse(
        "{\"model\":\"claude\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"},"
        + "{\"role\":\"assistant\",\"content\":" + assistantContentJson + "},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"" + toolUseId + "\",\"content\":\"sunny\"}]}],"
        + "\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}]}");

    [Fact]
    public void Thinking_signature_from_Responses_survives_into_the_next_Anthropic_turn()
    {
        var upstreamBody = Kit.Sse("{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":["
            + "{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Need the tool.\"}],\"encrypted_content\":\"gAAAAenc123\"},"
            + "{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"completed\",\"call_id\":\"call_7\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}],"
            + "\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}");
        var toClient = Converter.ConvertResponse(ApiProtocol.OpenAIResponses, ApiProtocol.Anthropic, upstreamBody, "claude");
        var content = Kit.Json(toClient.Body).GetProperty("content");
        Assert.Equal("thinking", content[0].GetProperty("type").GetString());
        Assert.Equal("tool_use", content[1].GetProperty("type").GetString());

        var next = Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, NextAnthropicTurn(content.GetRawText(), "call_7"), Kit.Options("gpt-5"));
        var input = Kit.Json(next).GetProperty("input");
        var reasoning = input.EnumerateArray().Single(i => i.GetProperty("type").GetString() == "reasoning");
        Assert.Equal("gAAAAenc123", reasoning.GetProperty("encrypted_content").GetString());
        Assert.Equal("Need the tool.", reasoning.GetProperty("summary")[0].GetProperty("text").GetString());
        Assert.Equal("reasoning.encrypted_content", Kit.Json(next).GetProperty("include")[0].GetString());
    }

    [Fact]
    public void Streamed_thinking_signature_survives_into_the_next_turn()
    {
        var upstream = Kit.Sse(
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"output\":[]}}\n\n"
            + "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}\n\n"
            + "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":2,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"Hmm.\"}\n\n"
            + "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":3,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Hmm.\"}],\"encrypted_content\":\"gAAAAstream\"}}\n\n"
            + "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":4,\"output_index\":1,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"\"}}\n\n"
            + "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":5,\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":\"{}\"}\n\n"
            + "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":6,\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}}\n\n");
        var output = Kit.Transcode(ApiProtocol.OpenAIResponses, ApiProtocol.Anthropic, upstream, out var t);

        // Rebuild the assistant message the way the Anthropic SDK accumulates it.
        var blocks = new SortedDictionary<int, Dictionary<string, string>>();
        foreach (var e in AnthropicEvents(output))
        {
            var type = e.GetProperty("type").GetString();
            if (type == "content_block_start")
            {
                var b = e.GetProperty("content_block");
                blocks[e.GetProperty("index").GetInt32()] = b.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!);
            }
            else if (type == "content_block_delta")
            {
                var block = blocks[e.GetProperty("index").GetInt32()];
                var d = e.GetProperty("delta");
                switch (d.GetProperty("type").GetString())
                {
                    case "thinking_delta": block["thinking"] += d.GetProperty("thinking").GetString(); break;
                    case "signature_delta": block["signature"] = d.GetProperty("signature").GetString()!; break;
                    case "input_json_delta": block["input"] = block.GetValueOrDefault("input") + d.GetProperty("partial_json").GetString(); break;
                }
            }
        }
        Assert.Equal(StopReasons.ToolUse, t.StopReason);
        var thinking = blocks.Values.Single(b => b["type"] == "thinking");
        Assert.Equal("Hmm.", thinking["thinking"]);
        var content = "[{\"type\":\"thinking\",\"thinking\":\"Hmm.\",\"signature\":" + JsonSerializer.Serialize(thinking["signature"], ProtocolTestJson.Default.String)
            + "},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"get_weather\",\"input\":{}}]";
        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, NextAnthropicTurn(content, "call_1"), Kit.Options("gpt-5")));
        var reasoning = next.GetProperty("input").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "reasoning");
        Assert.Equal("gAAAAstream", reasoning.GetProperty("encrypted_content").GetString());
    }

    [Fact]
    public void Thinking_block_carrying_only_a_signature_reaches_the_client_and_returns_to_Gemini()
    {
        // Gemini puts the signature on the function call part itself, with no thought text at all.
        var upstream = Kit.Sse("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},\"thoughtSignature\":\"CiQBsig\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":3,\"totalTokenCount\":8}}\n\n");
        var output = Kit.Transcode(ApiProtocol.Gemini, ApiProtocol.Anthropic, upstream, out var t);
        var events = AnthropicEvents(output);

        var starts = events.Where(e => e.GetProperty("type").GetString() == "content_block_start").Select(e => e.GetProperty("content_block")).ToList();
        Assert.Equal(["thinking", "tool_use"], starts.Select(b => b.GetProperty("type").GetString()));
        var signature = events.Single(e => e.GetProperty("type").GetString() == "content_block_delta" && e.GetProperty("delta").GetProperty("type").GetString() == "signature_delta")
            .GetProperty("delta").GetProperty("signature").GetString()!;
        Assert.Equal("octopus:gemini:CiQBsig", signature);
        Assert.Equal(StopReasons.ToolUse, t.StopReason);
        var toolId = starts[1].GetProperty("id").GetString()!;

        var content = "[{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"" + signature + "\"},{\"type\":\"tool_use\",\"id\":\"" + toolId + "\",\"name\":\"get_weather\",\"input\":{\"city\":\"Oslo\"}}]";
        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, NextAnthropicTurn(content, toolId), Kit.Options("gemini-3-pro")));
        var model = next.GetProperty("contents").EnumerateArray().Single(c => c.GetProperty("role").GetString() == "model");
        var part = Assert.Single(model.GetProperty("parts").EnumerateArray());
        Assert.Equal("CiQBsig", part.GetProperty("thoughtSignature").GetString());
        Assert.Equal("get_weather", part.GetProperty("functionCall").GetProperty("name").GetString());
        var response = next.GetProperty("contents")[2].GetProperty("parts")[0].GetProperty("functionResponse");
        Assert.Equal("get_weather", response.GetProperty("name").GetString());
    }

    [Fact]
    public void Streamed_tool_calls_sharing_one_index_keep_their_own_arguments()
    {
        // Some OpenAI-compatible providers number every call 0 and tell them apart only by id.
        var upstream = Kit.Sse(
            Chunk("{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}")
            + Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}")
            + Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}")
            + Chunk("{\"tool_calls\":[{\"index\":0,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\"}}]}")
            + Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"CET\\\"}\"}}]}")
            + Chunk("{}", "tool_calls") + "data: [DONE]\n\n");
        foreach (var client in new[] { ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, ApiProtocol.Gemini })
        {
            var got = Kit.ReadStream(client, Kit.Transcode(ApiProtocol.OpenAIChat, client, upstream, out _));
            Assert.Equal(["call_a", "call_b"], got.Calls.Select(c => c.Id));
            Assert.True(Kit.JsonEquals("{\"city\":\"Paris\"}", got.Calls[0].Args.ToString()));
            Assert.True(Kit.JsonEquals("{\"tz\":\"CET\"}", got.Calls[1].Args.ToString()));
        }
    }

    [Fact]
    public void Gemini_function_call_signature_is_sent_back_on_the_next_turn_from_an_OpenAI_client()
    {
        var gemini = Kit.Sse("{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},\"thoughtSignature\":\"SIG1\"},{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Rome\"}}}]},\"finishReason\":\"STOP\"}]}");
        var toClient = Kit.Json(Converter.ConvertResponse(ApiProtocol.Gemini, ApiProtocol.OpenAIChat, gemini, "gpt").Body);
        var message = toClient.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("tool_calls", toClient.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var calls = message.GetProperty("tool_calls");
        Assert.Equal("SIG1", calls[0].GetProperty("extra_content").GetProperty("google").GetProperty("thought_signature").GetString());

        var next = Kit.Sse("{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}," + message.GetRawText() + ","
            + "{\"role\":\"tool\",\"tool_call_id\":\"" + calls[0].GetProperty("id").GetString() + "\",\"content\":\"cold\"},"
            + "{\"role\":\"tool\",\"tool_call_id\":\"" + calls[1].GetProperty("id").GetString() + "\",\"content\":\"warm\"}]}");
        var upstream = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Gemini, next, Kit.Options("gemini-3-pro")));
        var parts = upstream.GetProperty("contents")[1].GetProperty("parts");
        Assert.Equal("SIG1", parts[0].GetProperty("thoughtSignature").GetString());
        Assert.False(parts[1].TryGetProperty("thoughtSignature", out _));
        var responses = upstream.GetProperty("contents")[2].GetProperty("parts");
        Assert.Equal("cold", responses[0].GetProperty("functionResponse").GetProperty("response").GetProperty("output").GetString());
        Assert.Equal("warm", responses[1].GetProperty("functionResponse").GetProperty("response").GetProperty("output").GetString());
    }

    [Fact]
    public void Function_calls_from_another_provider_get_Geminis_skip_signature_on_the_first_call()
    {
        var req = Kit.Request(
            Kit.Msg(Role.User, new TextPart("Go")),
            Kit.Msg(Role.Assistant, new ToolCallPart { Id = "toolu_1", Name = "a", Arguments = "{}" }, new ToolCallPart { Id = "toolu_2", Name = "b", Arguments = "{}" }),
            Kit.Msg(Role.User, Kit.Result("toolu_1", "1"), Kit.Result("toolu_2", "2")));
        var body = Kit.EncodeRequest(ApiProtocol.Anthropic, req);
        var upstream = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, body, Kit.Options("gemini-3-pro")));
        var parts = upstream.GetProperty("contents")[1].GetProperty("parts");
        Assert.Equal("skip_thought_signature_validator", parts[0].GetProperty("thoughtSignature").GetString());
        Assert.False(parts[1].TryGetProperty("thoughtSignature", out _));
    }

    private const string AdaptiveClaudeCode =
        "{\"model\":\"claude-opus-4-6\",\"max_tokens\":32000,\"thinking\":{\"type\":\"adaptive\"},\"output_config\":{\"effort\":\"high\"},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Refactor this.\"}]}";

    [Fact]
    public void Claude_code_adaptive_thinking_effort_maps_to_the_targets_reasoning_effort()
    {
        var body = Kit.Sse(AdaptiveClaudeCode);
        var chat = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, body, Kit.Options("gpt-5")));
        Assert.Equal("high", chat.GetProperty("reasoning_effort").GetString());
        Assert.Equal(32000, chat.GetProperty("max_completion_tokens").GetInt32());

        var responses = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, body, Kit.Options("gpt-5")));
        Assert.Equal("high", responses.GetProperty("reasoning").GetProperty("effort").GetString());

        var gemini = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, body, Kit.Options("gemini-2.5-pro")));
        Assert.Equal(16384, gemini.GetProperty("generationConfig").GetProperty("thinkingConfig").GetProperty("thinkingBudget").GetInt32());
    }

    [Theory]
    [InlineData("{\"type\":\"enabled\"}", "medium", "medium")]
    [InlineData("{\"type\":\"adaptive\"}", "low", "low")]
    [InlineData("{\"type\":\"adaptive\"}", "max", "high")]
    [InlineData("{\"type\":\"enabled\",\"budget_tokens\":1024}", null, "low")]
    [InlineData("{\"type\":\"enabled\",\"budget_tokens\":32000}", null, "high")]
    public void Anthropic_thinking_without_budget_uses_effort_not_a_fixed_level(string thinking, string? effort, string expected)
    {
        var body = Kit.Sse("{\"model\":\"c\",\"max_tokens\":64000,\"thinking\":" + thinking
            + (effort is null ? "" : ",\"output_config\":{\"effort\":\"" + effort + "\"}") + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        var chat = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, body, Kit.Options("deepseek-reasoner")));
        Assert.Equal(expected, chat.GetProperty("reasoning_effort").GetString());
    }

    [Fact]
    public void Anthropic_cache_usage_converts_to_OpenAI_inclusive_prompt_tokens()
    {
        var anthropic = Kit.Sse("{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\","
            + "\"usage\":{\"input_tokens\":100,\"cache_creation_input_tokens\":50,\"cache_read_input_tokens\":900,\"output_tokens\":10}}");
        var converted = Converter.ConvertResponse(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, anthropic, "gpt");
        var usage = Kit.Json(converted.Body).GetProperty("usage");
        Assert.Equal(1050, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(900, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(new Usage { InputTokens = 1050, CacheReadTokens = 900, CacheWriteTokens = 50, OutputTokens = 10 }, converted.Usage);
    }

    [Fact]
    public void OpenAI_cached_prompt_tokens_convert_to_Anthropic_exclusive_input_tokens()
    {
        var openai = Kit.Sse("{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":10,\"total_tokens\":1010,\"prompt_tokens_details\":{\"cached_tokens\":800}}}");
        var converted = Converter.ConvertResponse(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, openai, "claude");
        var usage = Kit.Json(converted.Body).GetProperty("usage");
        Assert.Equal(200, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(800, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(1000, converted.Usage.InputTokens);
        Assert.Equal(200, converted.Usage.UncachedInputTokens);

        // The same in a stream: message_delta carries the split usage.
        var stream = Kit.Sse(Chunk("{\"content\":\"ok\"}") + Chunk("{}", "stop")
            + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":800}}}\n\ndata: [DONE]\n\n");
        var output = Kit.Transcode(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, stream, out var t);
        var delta = AnthropicEvents(output).Single(e => e.GetProperty("type").GetString() == "message_delta").GetProperty("usage");
        Assert.Equal(200, delta.GetProperty("input_tokens").GetInt32());
        Assert.Equal(800, delta.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(1000, t.Usage.InputTokens);
    }

    [Fact]
    public void Translation_failure_mid_stream_becomes_an_in_band_error_and_closes_the_stream()
    {
        foreach (var client in Kit.All)
        {
            var t = Converter.CreateStreamTranscoder(ApiProtocol.OpenAIChat, client, "m");
            var output = new ArrayBufferWriter<byte>();
            foreach (var ev in Kit.ParseSse(Kit.Sse(Chunk("{\"content\":\"Hel\"}") + "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"\n\n")))
                t.OnEvent(ev, output);
            Assert.True(t.IsClosed);
            var got = Kit.ReadStream(client, output.WrittenSpan.ToArray());
            Assert.Equal("Hel", got.Text.ToString());
            Assert.NotNull(got.Error);

            // Nothing more is written after the stream closed, whatever the relay does next.
            var before = output.WrittenCount;
            Assert.False(t.OnEvent(Kit.ParseSse(Kit.Sse(Chunk("{\"content\":\"more\"}")))[0], output));
            t.Complete(output);
            t.Fail("late", output);
            Assert.Equal(before, output.WrittenCount);
        }
    }

    [Fact]
    public void Failed_tool_result_stays_marked_as_an_error_in_every_target()
    {
        var body = Kit.Sse("{\"model\":\"c\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Run it\"},"
            + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"run\",\"input\":{}}]},"
            + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"is_error\":true,\"content\":\"permission denied\"}]}]}");

        var chat = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, body, Kit.Options()));
        var tool = chat.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("Error: permission denied", tool.GetProperty("content").GetString());

        var responses = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, body, Kit.Options()));
        var output = responses.GetProperty("input").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "function_call_output");
        Assert.Equal("Error: permission denied", output.GetProperty("output").GetString());

        var geminiBody = Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, body, Kit.Options());
        var gemini = Kit.Json(geminiBody);
        var response = gemini.GetProperty("contents")[2].GetProperty("parts")[0].GetProperty("functionResponse").GetProperty("response");
        Assert.Equal("permission denied", response.GetProperty("error").GetString());
        // And Gemini's error convention reads back as an error result.
        Assert.True(Kit.PartsOf<ToolResultPart>(Kit.DecodeRequest(ApiProtocol.Gemini, geminiBody)).Single().IsError);
    }

    [Fact]
    public void Refusal_stays_visible_to_every_client()
    {
        var openai = Kit.Sse("{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"},\"finish_reason\":\"stop\"}]}");
        foreach (var client in new[] { ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, ApiProtocol.Gemini })
        {
            var back = Kit.DecodeResponse(client, Converter.ConvertResponse(ApiProtocol.OpenAIChat, client, openai, "m").Body);
            var text = string.Concat(back.Parts.Select(p => p switch { TextPart t => t.Text, RefusalPart r => r.Text, _ => "" }));
            Assert.Equal("I can't help with that.", text);
        }

        var stream = Kit.Sse(Chunk("{\"role\":\"assistant\",\"refusal\":\"No.\"}") + Chunk("{}", "stop") + "data: [DONE]\n\n");
        var responses = Kit.ReadStream(ApiProtocol.OpenAIResponses, Kit.Transcode(ApiProtocol.OpenAIChat, ApiProtocol.OpenAIResponses, stream, out _));
        Assert.Equal("No.", responses.Refusal.ToString());
        var anthropic = Kit.ReadStream(ApiProtocol.Anthropic, Kit.Transcode(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, stream, out _));
        Assert.Equal("No.", anthropic.Text.ToString());
    }

    [Fact]
    public void Anthropic_refusal_stop_reaches_OpenAI_clients_as_content_filter()
    {
        var anthropic = Kit.Sse("{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"No.\"}],\"stop_reason\":\"refusal\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}");
        var chat = Kit.Json(Converter.ConvertResponse(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, anthropic, "m").Body);
        Assert.Equal("content_filter", chat.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    private static string ResponsesEvent(string type, string fields) =>
        "event: " + type + "\ndata: {\"type\":\"" + type + "\"," + fields + "}\n\n";

    [Fact]
    public void Incomplete_Responses_stream_reaches_the_client_as_max_tokens()
    {
        var upstream = Kit.Sse(
            ResponsesEvent("response.created", "\"sequence_number\":0,\"response\":{\"id\":\"r\",\"output\":[]}")
            + ResponsesEvent("response.output_text.delta", "\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"Once upon\"")
            + ResponsesEvent("response.incomplete", "\"sequence_number\":2,\"response\":{\"id\":\"r\",\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"output\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":16}}"));
        var events = AnthropicEvents(Kit.Transcode(ApiProtocol.OpenAIResponses, ApiProtocol.Anthropic, upstream, out var t));
        Assert.Equal("max_tokens", events.Single(e => e.GetProperty("type").GetString() == "message_delta").GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(StopReasons.MaxTokens, t.StopReason);

        // And a Responses client sees its own response.incomplete when another upstream ran out of tokens.
        var chat = Kit.Sse(Chunk("{\"content\":\"Once\"}") + Chunk("{}", "length") + "data: [DONE]\n\n");
        var output = Kit.Str(Kit.Transcode(ApiProtocol.OpenAIChat, ApiProtocol.OpenAIResponses, chat, out _));
        Assert.Contains("event: response.incomplete\n", output);
        Assert.Contains("\"reason\":\"max_output_tokens\"", output);
    }

    [Fact]
    public void Failed_or_cancelled_Responses_stream_stays_visible_as_an_error()
    {
        var upstream = Kit.Sse(
            ResponsesEvent("response.created", "\"sequence_number\":0,\"response\":{\"id\":\"r\",\"output\":[]}")
            + ResponsesEvent("response.output_text.delta", "\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\"")
            + ResponsesEvent("response.failed", "\"sequence_number\":2,\"response\":{\"id\":\"r\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model crashed\"},\"output\":[]}"));
        var got = Kit.ReadStream(ApiProtocol.Anthropic, Kit.Transcode(ApiProtocol.OpenAIResponses, ApiProtocol.Anthropic, upstream, out var t));
        Assert.Equal("The model crashed", got.Error?.Message);
        Assert.True(t.IsClosed);

        // Upstream connection dropped before response.completed: the relay calls Fail; a Responses client sees
        // response.failed continuing its own sequence numbers.
        var partial = Kit.NativeStream(ApiProtocol.Anthropic, s => s.Text("Hi"), complete: false);
        var transcoder = Converter.CreateStreamTranscoder(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, "m");
        var output = new ArrayBufferWriter<byte>();
        foreach (var ev in Kit.ParseSse(partial)) transcoder.OnEvent(ev, output);
        transcoder.Fail("upstream closed the connection", output);
        var events = Kit.ParseSse(output.WrittenSpan.ToArray()).Select(e => Kit.Json(e.Data.ToArray())).ToList();
        Assert.Equal("response.failed", events[^1].GetProperty("type").GetString());
        Assert.Equal(events.Count - 1, events[^1].GetProperty("sequence_number").GetInt32());
        Assert.Equal(events[0].GetProperty("response").GetProperty("id").GetString(), events[^1].GetProperty("response").GetProperty("id").GetString());
        Assert.Equal("upstream closed the connection", events[^1].GetProperty("response").GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void Reasoning_text_goes_back_to_an_OpenAI_compatible_upstream_on_tool_call_turns()
    {
        // DeepSeek thinking mode rejects a follow-up whose tool-call turn lost its reasoning_content.
        var deepseek = Kit.Sse("{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"Need weather.\","
            + "\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}");
        var content = Kit.Json(Converter.ConvertResponse(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, deepseek, "claude").Body).GetProperty("content");
        Assert.Equal("octopus:openai_chat:", content[0].GetProperty("signature").GetString());

        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, NextAnthropicTurn(content.GetRawText(), "call_0"), Kit.Options("deepseek-reasoner")));
        var assistant = next.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "assistant");
        Assert.Equal("Need weather.", assistant.GetProperty("reasoning_content").GetString());

        // Thinking that came from Anthropic itself is not plain reasoning_content material: it is dropped.
        var foreign = "[{\"type\":\"thinking\",\"thinking\":\"secret\",\"signature\":\"EqNativeAnthropic\"},{\"type\":\"tool_use\",\"id\":\"call_0\",\"name\":\"get_weather\",\"input\":{}}]";
        var other = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, NextAnthropicTurn(foreign, "call_0"), Kit.Options("deepseek-reasoner")));
        Assert.False(other.GetProperty("messages")[1].TryGetProperty("reasoning_content", out _));
    }

    [Fact]
    public void Foreign_signatures_are_dropped_instead_of_failing_the_upstream()
    {
        var content = "[{\"type\":\"thinking\",\"thinking\":\"x\",\"signature\":\"EqNativeAnthropic\"},{\"type\":\"redacted_thinking\",\"data\":\"opaque\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"get_weather\",\"input\":{}}]";
        var body = NextAnthropicTurn(content, "t1");
        var responses = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, body, Kit.Options()));
        Assert.DoesNotContain(responses.GetProperty("input").EnumerateArray(), i => i.GetProperty("type").GetString() == "reasoning");
        var gemini = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, body, Kit.Options()));
        Assert.DoesNotContain(gemini.GetProperty("contents")[1].GetProperty("parts").EnumerateArray(), p => p.TryGetProperty("thought", out _));

        // Going the other way, a tagged Gemini signature never reaches Anthropic.
        var openai = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\",\"reasoning_content\":\"hmm\"},{\"role\":\"user\",\"content\":\"again\"}]}");
        var anthropic = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, openai, Kit.Options()));
        Assert.DoesNotContain(anthropic.GetProperty("messages")[1].GetProperty("content").EnumerateArray(), b => b.GetProperty("type").GetString() == "thinking");
    }

    [Fact]
    public void Mid_conversation_system_message_stays_in_place_and_is_not_hoisted()
    {
        var body = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"A\"},{\"role\":\"user\",\"content\":\"u1\"},"
            + "{\"role\":\"assistant\",\"content\":\"a1\"},{\"role\":\"system\",\"content\":\"B\"},{\"role\":\"user\",\"content\":\"u2\"}]}");
        var anthropic = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options()));
        Assert.Equal("A", anthropic.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal(1, anthropic.GetProperty("system").GetArrayLength());
        var last = anthropic.GetProperty("messages")[2];
        Assert.Equal("user", last.GetProperty("role").GetString());
        Assert.Equal(["B", "u2"], last.GetProperty("content").EnumerateArray().Select(b => b.GetProperty("text").GetString()));
    }

    [Fact]
    public void Prompt_cache_key_is_passed_through_and_never_minted()
    {
        var withKey = Kit.Sse("{\"model\":\"m\",\"prompt_cache_key\":\"client-key\",\"input\":\"hi\"}");
        var chat = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIResponses, ApiProtocol.OpenAIChat, withKey, Kit.Options() with { ConversationId = "conv-1" }));
        Assert.Equal("client-key", chat.GetProperty("prompt_cache_key").GetString());

        var anthropic = Kit.Sse("{\"model\":\"c\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        var fromConversation = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, anthropic, Kit.Options() with { ConversationId = "conv-1" }));
        Assert.Equal("conv-1", fromConversation.GetProperty("prompt_cache_key").GetString());

        var a = Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, anthropic, Kit.Options());
        var b = Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, anthropic, Kit.Options());
        Assert.Equal(a, b);
        Assert.False(Kit.Json(a).TryGetProperty("prompt_cache_key", out _));
    }

    [Fact]
    public void Anthropic_cache_control_survives_conversion_to_Anthropic()
    {
        var body = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"sys\",\"cache_control\":{\"type\":\"ephemeral\",\"ttl\":\"1h\"}}]},"
            + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\",\"cache_control\":{\"type\":\"ephemeral\"}}]}],"
            + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}},\"cache_control\":{\"type\":\"ephemeral\"}}]}");
        var anthropic = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options() with { AddCacheBreakpoints = true }));
        Assert.Equal("{\"type\":\"ephemeral\",\"ttl\":\"1h\"}", anthropic.GetProperty("system")[0].GetProperty("cache_control").GetRawText());
        Assert.Equal("ephemeral", anthropic.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal("ephemeral", anthropic.GetProperty("tools")[0].GetProperty("cache_control").GetProperty("type").GetString());
    }

    [Fact]
    public void Cache_breakpoints_are_added_on_system_last_tool_and_last_user_message_only_when_asked()
    {
        var body = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"sys\"},{\"role\":\"user\",\"content\":\"u1\"},"
            + "{\"role\":\"assistant\",\"content\":\"a1\"},{\"role\":\"user\",\"content\":\"u2\"}],"
            + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},{\"type\":\"function\",\"function\":{\"name\":\"g\"}}]}");
        var plain = Kit.Str(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options()));
        Assert.DoesNotContain("cache_control", plain);

        var marked = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options() with { AddCacheBreakpoints = true }));
        Assert.True(marked.GetProperty("system")[0].TryGetProperty("cache_control", out _));
        Assert.False(marked.GetProperty("tools")[0].TryGetProperty("cache_control", out _));
        Assert.True(marked.GetProperty("tools")[1].TryGetProperty("cache_control", out _));
        var messages = marked.GetProperty("messages");
        Assert.False(messages[0].GetProperty("content")[0].TryGetProperty("cache_control", out _));
        Assert.True(messages[2].GetProperty("content")[0].TryGetProperty("cache_control", out _));
        Assert.Equal(3, Kit.Str(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options() with { AddCacheBreakpoints = true })).Split("cache_control").Length - 1);
    }

    [Fact]
    public void Tool_history_without_tool_definitions_still_converts_to_a_valid_Anthropic_request()
    {
        var body = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
            + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{}\"}}]},"
            + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"found\"}]}");
        var anthropic = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options()));
        Assert.Equal("lookup", anthropic.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("none", anthropic.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("tool_result", anthropic.GetProperty("messages")[2].GetProperty("content")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void Volcengine_gets_its_thinking_switch_and_no_OpenAI_only_fields()
    {
        var body = Kit.Sse(AdaptiveClaudeCode);
        var volc = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, body,
            Kit.Options("doubao-seed-1-6", stream: true, type: ChannelType.Volcengine) with { ConversationId = "conv" }));
        Assert.Equal("enabled", volc.GetProperty("thinking").GetProperty("type").GetString());
        Assert.Equal("high", volc.GetProperty("reasoning_effort").GetString());
        Assert.False(volc.TryGetProperty("prompt_cache_key", out _));
        Assert.True(volc.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(32000, volc.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void Unknown_fields_are_dropped_and_malformed_bodies_are_protocol_errors()
    {
        var body = Kit.Sse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{}},{\"type\":\"text\",\"text\":\"hi\"}]}],"
            + "\"tools\":[{\"type\":\"web_search\"}],\"some_future_field\":{\"x\":1}}");
        var anthropic = Kit.Json(Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, body, Kit.Options()));
        Assert.Equal("hi", anthropic.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.False(anthropic.TryGetProperty("tools", out _));

        foreach (var bad in new[] { "", "{", "[]", "{\"messages\":5}", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}" })
            Assert.Throws<ProtocolException>(() => Converter.ConvertRequest(ApiProtocol.OpenAIChat, ApiProtocol.Anthropic, Kit.Sse(bad), Kit.Options()));
        Assert.Throws<ProtocolException>(() => Converter.ConvertResponse(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, Kit.Sse("{\"type\":\"message\"}"), "m"));
    }

    [Fact]
    public void Count_tokens_estimate_grows_with_the_prompt_for_every_inbound_protocol()
    {
        foreach (var p in Kit.All)
        {
            var small = Kit.EncodeRequest(p, Kit.Request(Kit.Msg(Role.User, new TextPart("hi"))));
            var large = Kit.EncodeRequest(p, Kit.Request(Kit.Msg(Role.User, new TextPart(new string('x', 4000)))));
            var s = RequestInspector.Inspect(p, small).EstimatedInputTokens;
            var l = RequestInspector.Inspect(p, large).EstimatedInputTokens;
            Assert.InRange(s, 1, 20);
            Assert.InRange(l, 1000, 1100);
        }
        var claudeCode = RequestInspector.Inspect(ApiProtocol.Anthropic, Kit.Fixture("anthropic-claude-code.request.json")).EstimatedInputTokens;
        Assert.InRange(claudeCode, 67690 / 8, 67690 / 2);
    }
}
