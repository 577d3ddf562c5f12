using System.Buffers;
using System.Text;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

/// <summary>
/// Random, truncated and mutated bodies and SSE events through every decoder and transcoder: nothing but
/// <see cref="ProtocolException"/> may escape, and a failed stream always ends in a well-formed error event.
/// Seeded, bounded loops: the same cases run every time.
/// </summary>
public sealed class FuzzTests
{
    private static readonly string[] Keys =
    [
        "messages", "role", "content", "type", "text", "tool_calls", "function", "name", "arguments", "id", "tool_call_id", "tools",
        "parameters", "input_schema", "input", "tool_use_id", "is_error", "thinking", "signature", "source", "data", "media_type", "url",
        "image_url", "system", "contents", "parts", "functionCall", "functionResponse", "args", "response", "thoughtSignature", "thought",
        "inlineData", "mimeType", "fileData", "fileUri", "generationConfig", "thinkingConfig", "thinkingBudget", "output", "call_id",
        "summary", "encrypted_content", "instructions", "reasoning", "effort", "choices", "delta", "finish_reason", "usage", "prompt_tokens",
        "candidates", "finishReason", "usageMetadata", "index", "content_block", "message", "stop_reason", "item", "output_index", "error",
        "tool_choice", "max_tokens", "stop", "cache_control", "file", "file_data", "refusal", "reasoning_content", "reasoning_details",
        "extra_content", "google", "thought_signature", "systemInstruction", "toolConfig", "functionCallingConfig", "mode",
        "allowedFunctionNames", "functionDeclarations", "parametersJsonSchema", "stop_sequences", "output_config", "metadata", "user_id",
        "partial_json", "status", "incomplete_details", "sequence_number", "budget_tokens", "response_format", "json_schema", "schema",
        "text", "format", "prompt_tokens_details", "cached_tokens", "input_tokens", "cache_read_input_tokens", "promptTokenCount",
    ];

    private static readonly string[] Strings =
    [
        "user", "assistant", "system", "developer", "tool", "model", "function", "text", "image", "document", "tool_use", "tool_result",
        "thinking", "redacted_thinking", "function_call", "function_call_output", "custom_tool_call", "reasoning", "message",
        "input_text", "output_text", "input_image", "input_file", "base64", "url", "image_url", "file", "refusal", "auto", "any", "none",
        "required", "tool", "enabled", "adaptive", "disabled", "content_block_start", "content_block_delta", "content_block_stop",
        "text_delta", "thinking_delta", "input_json_delta", "signature_delta", "message_start", "message_delta", "error",
        "response.created", "response.output_item.added", "response.output_item.done", "response.output_text.delta",
        "response.function_call_arguments.delta", "response.completed", "response.failed", "response.reasoning_summary_part.added",
        "STOP", "MAX_TOKENS", "SAFETY", "ANY", "NONE", "OBJECT", "STRING", "data:image/png;base64,AAAA", "data:application/pdf;base64,JV",
        "{\"a\":1}", "{", "", "octopus:gemini:x", "octopus:anthropic_redacted:", "octopus:", "octopus:nope:1", "[DONE]", "high", "max",
    ];

    private static void RandomJson(Random r, StringBuilder sb, int depth)
    {
        var pick = depth <= 0 ? r.Next(4) : r.Next(7);
        switch (pick)
        {
            case 0: sb.Append('"').Append(Escape(Strings[r.Next(Strings.Length)])).Append('"'); break;
            case 1: sb.Append(r.Next(5) == 0 ? "-1" : r.Next(100000).ToString()); break;
            case 2: sb.Append(r.Next(2) == 0 ? "true" : "false"); break;
            case 3: sb.Append("null"); break;
            case 4:
                sb.Append('[');
                for (int i = 0, n = r.Next(4); i < n; i++)
                {
                    if (i > 0) sb.Append(',');
                    RandomJson(r, sb, depth - 1);
                }
                sb.Append(']');
                break;
            default:
                sb.Append('{');
                for (int i = 0, n = r.Next(6); i < n; i++)
                {
                    if (i > 0) sb.Append(',');
                    sb.Append('"').Append(Keys[r.Next(Keys.Length)]).Append("\":");
                    RandomJson(r, sb, depth - 1);
                }
                sb.Append('}');
                break;
        }
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    private static byte[] RandomBody(Random r)
    {
        var sb = new StringBuilder("{");
        for (int i = 0, n = 1 + r.Next(6); i < n; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append('"').Append(Keys[r.Next(Keys.Length)]).Append("\":");
            RandomJson(r, sb, 5);
        }
        return Encoding.UTF8.GetBytes(sb.Append('}').ToString());
    }

    private static readonly byte[] Noise = "{}[]\":,0a -\\n"u8.ToArray();

    /// <summary>Seed bodies, then for each: truncations, single-byte mutations, and wholly random documents.</summary>
    private static IEnumerable<byte[]> Variants(Random r, IEnumerable<byte[]> seeds, int perSeed)
    {
        foreach (var seed in seeds)
        {
            yield return seed;
            for (var i = 0; i < perSeed; i++)
            {
                yield return seed[..r.Next(seed.Length)];
                var mutated = (byte[])seed.Clone();
                for (var k = 0; k < 1 + r.Next(3); k++) mutated[r.Next(mutated.Length)] = Noise[r.Next(Noise.Length)];
                yield return mutated;
                yield return RandomBody(r);
            }
        }
    }

    private static ChatRequest RichRequest()
    {
        var req = Kit.Request(
            Kit.Msg(Role.System, new TextPart("sys")),
            Kit.Msg(Role.User, new TextPart("hi"), new ImagePart { MediaType = "image/png", Data = "AAAA" }, new DocumentPart { MediaType = "application/pdf", Data = "JV" }),
            Kit.Msg(Role.Assistant, new ThinkingPart { Text = "hm", Signature = "s", Origin = ApiProtocol.Anthropic }, new TextPart("ok"),
                new ToolCallPart { Id = "call_1", Name = "get_weather", Arguments = "{\"city\":\"Oslo\"}" }),
            Kit.Msg(Role.User, Kit.Result("call_1", "cold", isError: true)));
        req.Tools.Add(Kit.WeatherTool());
        req.ToolChoice = new ToolChoice(ToolChoiceKind.Required);
        req.Reasoning = new ReasoningConfig { Effort = "low" };
        req.StopSequences.Add("END");
        req.MaxTokens = 100;
        return req;
    }

    private static void Guard(string what, Action action)
    {
        try
        {
            action();
        }
        catch (ProtocolException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what}: {ex.GetType().Name} escaped: {ex.Message}\n{ex.StackTrace}");
        }
    }

    [Fact]
    public void Random_truncated_and_mutated_requests_only_raise_ProtocolException()
    {
        var r = new Random(1234);
        foreach (var from in Kit.All)
        {
            var seeds = new List<byte[]> { Kit.EncodeRequest(from, RichRequest()) };
            if (from == ApiProtocol.Anthropic) seeds.Add(Kit.Fixture("anthropic-tool.request.json"));
            if (from == ApiProtocol.OpenAIChat) seeds.Add(Kit.Fixture("openai-parallel_tool.request.json"));
            foreach (var body in Variants(r, seeds, 80))
            {
                foreach (var to in Kit.All)
                {
                    if (to == from) continue;
                    Guard($"{from}->{to} request", () => Converter.ConvertRequest(from, to, body, Kit.Options() with { AddCacheBreakpoints = true }));
                }
                Guard($"{from} estimate", () => _ = RequestInspector.Inspect(from, body).EstimatedInputTokens);
            }
        }
    }

    [Fact]
    public void Random_truncated_and_mutated_responses_and_errors_only_raise_ProtocolException()
    {
        var r = new Random(5678);
        foreach (var upstream in Kit.All)
        {
            var resp = new ChatResponse { StopReason = StopReasons.ToolUse, Usage = new Usage { InputTokens = 5, OutputTokens = 3, CacheReadTokens = 1 } };
            resp.Parts.Add(new ThinkingPart { Text = "t", Signature = "s", Origin = upstream });
            resp.Parts.Add(new TextPart("x"));
            resp.Parts.Add(new ToolCallPart { Id = "c", Name = "f", Arguments = "{\"a\":1}", ThoughtSignature = "g" });
            foreach (var body in Variants(r, [Kit.EncodeResponse(upstream, resp)], 80))
            {
                foreach (var client in Kit.All)
                {
                    if (client == upstream) continue;
                    Guard($"{upstream}->{client} response", () => Converter.ConvertResponse(upstream, client, body, "m"));
                    Guard($"{upstream}->{client} error", () =>
                    {
                        var (status, error) = Converter.ConvertError(upstream, client, 500, body);
                        Assert.InRange(status, 400, 599);
                        Assert.NotNull(Converter.ReadErrorMessage(error));
                    });
                }
            }
        }
    }

    private static void ScriptAll(IStreamSink s)
    {
        s.Start("id", "m");
        s.Thinking("hm");
        s.ThinkingSignature("sig");
        s.Text("Hello");
        s.Refusal("no");
        s.ToolCallStart(0, "call_1", "f", "g");
        s.ToolCallArguments(0, "{\"a\":");
        s.ToolCallArguments(0, "1}");
        s.BlockEnd();
        s.Usage(new Usage { InputTokens = 3, OutputTokens = 2 });
        s.Finish(StopReasons.ToolUse);
    }

    /// <summary>Checks client output is whole SSE events with JSON data; returns what the client SDK would see.</summary>
    private static Collected CheckOutput(ApiProtocol client, byte[] output) => Kit.ReadStream(client, output);

    [Fact]
    public void Random_truncated_and_mutated_stream_events_never_escape_the_transcoder()
    {
        var r = new Random(9012);
        foreach (var upstream in Kit.All)
        {
            var events = Kit.ParseSse(Kit.NativeStream(upstream, ScriptAll)).Select(e => (e.EventType, Data: e.Data.ToArray())).ToList();
            foreach (var client in Kit.All)
            {
                if (client == upstream) continue;
                for (var round = 0; round < 60; round++)
                {
                    var sse = new StringBuilder();
                    foreach (var (type, data) in events)
                    {
                        var d = data;
                        switch (r.Next(8))
                        {
                            case 0: d = d[..r.Next(d.Length + 1)]; break;
                            case 1: d = RandomBody(r); break;
                            case 2:
                                d = (byte[])d.Clone();
                                if (d.Length > 0) d[r.Next(d.Length)] = Noise[r.Next(Noise.Length)];
                                break;
                        }
                        if (type is not null) sse.Append("event: ").Append(type).Append('\n');
                        // Data lines must not contain raw newlines: they would split the event.
                        sse.Append("data: ").Append(Encoding.UTF8.GetString(d).Replace('\n', ' ').Replace('\r', ' ')).Append("\n\n");
                        if (r.Next(10) == 0) sse.Append(": keep-alive\n\n");
                    }
                    var transcoder = Converter.CreateStreamTranscoder(upstream, client, "m");
                    var output = new ArrayBufferWriter<byte>();
                    var seq = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(sse.ToString()));
                    var guard = 0;
                    while (SseParser.TryRead(ref seq, out var ev) && guard++ < 1000)
                        Guard($"{upstream}->{client} OnEvent", () => transcoder.OnEvent(ev, output));
                    var failed = transcoder.IsClosed;
                    if (r.Next(2) == 0) Guard("Complete", () => transcoder.Complete(output));
                    else Guard("Fail", () => transcoder.Fail("upstream went away", output));
                    Assert.True(transcoder.IsClosed);

                    var got = CheckOutput(client, output.WrittenSpan.ToArray());
                    if (failed) Assert.NotNull(got.Error);
                }
            }
        }
    }

    [Fact]
    public void Fail_at_any_point_ends_the_client_stream_with_a_well_formed_error()
    {
        foreach (var upstream in Kit.All)
        {
            var events = Kit.ParseSse(Kit.NativeStream(upstream, ScriptAll));
            foreach (var client in Kit.All)
            {
                if (client == upstream) continue;
                for (var cut = 0; cut <= events.Count; cut++)
                {
                    var transcoder = Converter.CreateStreamTranscoder(upstream, client, "m");
                    var output = new ArrayBufferWriter<byte>();
                    foreach (var ev in events.Take(cut)) transcoder.OnEvent(ev, output);
                    if (transcoder.IsClosed) continue; // the upstream stream itself ended
                    transcoder.Fail("upstream reset the connection", output);
                    var bytes = output.WrittenSpan.ToArray();
                    var got = CheckOutput(client, bytes);
                    Assert.Equal("upstream reset the connection", got.Error?.Message);
                    var last = Kit.ParseSse(bytes)[^1];
                    Assert.Contains("upstream reset the connection", Kit.Str(last.Data.ToArray()));
                }
            }
        }
    }
}
