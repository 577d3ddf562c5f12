using System.Buffers;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Tests.Protocols;

/// <summary>
/// Every (client, upstream) pair of the four protocols, for requests, non-streamed responses and streams: the client
/// body is written in the client protocol, converted, and read back with the upstream protocol's own decoder (and the
/// reverse for answers), then the meaning is compared.
/// </summary>
public sealed class ConversionMatrixTests
{
    public static IEnumerable<object[]> Pairs => Kit.Pairs();

    private static ChatRequest RoundTrip(string client, string upstream, ChatRequest req, ConversionOptions? options = null)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var body = Kit.EncodeRequest(c, req);
        var converted = Converter.ConvertRequest(c, u, body, options ?? Kit.Options());
        return Kit.DecodeRequest(u, converted);
    }

    // ---------- requests ----------

    [Theory, MemberData(nameof(Pairs))]
    public void Plain_text_request_keeps_prompt_model_and_sampling(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.User, new TextPart("Hello there")));
        req.MaxTokens = 321;
        req.Temperature = 0.25;
        req.TopP = 0.9;
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var converted = Converter.ConvertRequest(c, u, Kit.EncodeRequest(c, req), Kit.Options());
        var back = Kit.DecodeRequest(u, converted);

        Assert.Equal("Hello there", Kit.TextOf(Assert.Single(back.Messages)));
        Assert.Equal(321, back.MaxTokens);
        Assert.Equal(0.25, back.Temperature);
        Assert.Equal(0.9, back.TopP);
        if (u != ApiProtocol.Gemini) Assert.Equal("up-model", Kit.Json(converted).GetProperty("model").GetString());
    }

    [Theory, MemberData(nameof(Pairs))]
    public void System_prompt_stays_the_system_prompt(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.System, new TextPart("Be brief.")), Kit.Msg(Role.User, new TextPart("Hi")));
        var back = RoundTrip(client, upstream, req);

        Assert.Equal(Role.System, back.Messages[0].Role);
        Assert.Equal("Be brief.", Kit.TextOf(back.Messages[0]));
        Assert.Equal("Hi", Kit.TextOf(back.Messages[1]));
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Multi_turn_history_keeps_roles_and_order(string client, string upstream)
    {
        var req = Kit.Request(
            Kit.Msg(Role.User, new TextPart("Name a colour.")),
            Kit.Msg(Role.Assistant, new TextPart("Blue.")),
            Kit.Msg(Role.User, new TextPart("Another one.")),
            Kit.Msg(Role.Assistant, new TextPart("Green.")),
            Kit.Msg(Role.User, new TextPart("Thanks.")));
        var back = RoundTrip(client, upstream, req);

        Assert.Equal([Role.User, Role.Assistant, Role.User, Role.Assistant, Role.User], back.Messages.Select(m => m.Role));
        Assert.Equal(["Name a colour.", "Blue.", "Another one.", "Green.", "Thanks."], back.Messages.Select(Kit.TextOf));
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Image_input_by_base64_and_by_url_survives(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.User,
            new TextPart("What is in these?"),
            new ImagePart { MediaType = "image/png", Data = "iVBORw0KGgoAAAANSUhEUg==" },
            new ImagePart { Url = "https://example.com/cat.jpg" }));
        var back = RoundTrip(client, upstream, req);

        var images = Kit.PartsOf<ImagePart>(back).ToList();
        Assert.Equal(2, images.Count);
        Assert.Equal("image/png", images[0].MediaType);
        Assert.Equal("iVBORw0KGgoAAAANSUhEUg==", images[0].Data);
        Assert.Equal("https://example.com/cat.jpg", images[1].Url);
        Assert.Equal("What is in these?", Kit.PartsOf<TextPart>(back).Single().Text);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Pdf_document_survives(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.User, new TextPart("Summarise."), new DocumentPart { MediaType = "application/pdf", Data = "JVBERi0xLjQK", FileName = "a.pdf" }));
        var back = RoundTrip(client, upstream, req);

        var doc = Kit.PartsOf<DocumentPart>(back).Single();
        Assert.Equal("application/pdf", doc.MediaType);
        Assert.Equal("JVBERi0xLjQK", doc.Data);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Tool_definition_call_and_result_round_trip(string client, string upstream)
    {
        var req = Kit.Request(
            Kit.Msg(Role.User, new TextPart("Weather in Paris?")),
            Kit.Msg(Role.Assistant, new TextPart("Let me check."), new ToolCallPart { Id = "call_1", Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" }),
            Kit.Msg(Role.User, Kit.Result("call_1", "18C and sunny")));
        req.Tools.Add(Kit.WeatherTool());
        req.ToolChoice = new ToolChoice(ToolChoiceKind.Tool, "get_weather");
        var back = RoundTrip(client, upstream, req);

        var tool = Assert.Single(back.Tools);
        Assert.Equal("get_weather", tool.Name);
        Assert.Equal("Weather for a city", tool.Description);
        Assert.True(Kit.JsonEquals(Kit.WeatherSchema, tool.Parameters!));
        Assert.Equal(ToolChoiceKind.Tool, back.ToolChoice?.Kind);
        Assert.Equal("get_weather", back.ToolChoice?.Name);

        var call = Kit.PartsOf<ToolCallPart>(back, Role.Assistant).Single();
        Assert.Equal("get_weather", call.Name);
        Assert.True(Kit.JsonEquals("{\"city\":\"Paris\"}", call.Arguments));
        Assert.Equal("Let me check.", Kit.PartsOf<TextPart>(back, Role.Assistant).Single().Text);

        var result = Kit.PartsOf<ToolResultPart>(back, Role.User).Single();
        Assert.Equal(call.Id, result.CallId);
        Assert.Equal("18C and sunny", result.JoinedText());
        Assert.False(result.IsError);
        Assert.Equal([Role.User, Role.Assistant, Role.User], back.Messages.Select(m => m.Role));
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Parallel_tool_calls_and_their_results_pair_up(string client, string upstream)
    {
        var req = Kit.Request(
            Kit.Msg(Role.User, new TextPart("Paris and Rome?")),
            Kit.Msg(Role.Assistant,
                new ToolCallPart { Id = "call_a", Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" },
                new ToolCallPart { Id = "call_b", Name = "get_weather", Arguments = "{\"city\":\"Rome\"}" }),
            Kit.Msg(Role.User, Kit.Result("call_a", "18C"), Kit.Result("call_b", "25C")));
        req.Tools.Add(Kit.WeatherTool());
        var back = RoundTrip(client, upstream, req);

        var calls = Kit.PartsOf<ToolCallPart>(back).ToList();
        var results = Kit.PartsOf<ToolResultPart>(back).ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(2, results.Count);
        Assert.Equal("18C", results.Single(r => r.CallId == calls[0].Id).JoinedText());
        Assert.Equal("25C", results.Single(r => r.CallId == calls[1].Id).JoinedText());
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Reasoning_effort_request_maps_to_the_targets_reasoning_setting(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.User, new TextPart("Prove it.")));
        req.Reasoning = new ReasoningConfig { Effort = "high" };
        var back = RoundTrip(client, upstream, req);

        Assert.NotNull(back.Reasoning);
        Assert.False(back.Reasoning!.Disabled);
        Assert.Equal("high", back.Reasoning.ResolveEffort());
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Stop_sequences_travel_where_both_sides_have_them(string client, string upstream)
    {
        var req = Kit.Request(Kit.Msg(Role.User, new TextPart("Count.")));
        req.StopSequences.Add("END");
        var back = RoundTrip(client, upstream, req);
        var carried = Kit.P(client) != ApiProtocol.OpenAIResponses && Kit.P(upstream) != ApiProtocol.OpenAIResponses;
        Assert.Equal(carried ? ["END"] : [], back.StopSequences);
    }

    // ---------- non-streamed responses ----------

    private static (ChatResponse Back, ConvertedResponse Converted) RespondThrough(string client, string upstream, ChatResponse resp)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var converted = Converter.ConvertResponse(u, c, Kit.EncodeResponse(u, resp), "client-model");
        return (Kit.DecodeResponse(c, converted.Body), converted);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Text_answer_converts_and_echoes_the_client_model(string client, string upstream)
    {
        var resp = new ChatResponse { Usage = new Usage { InputTokens = 100, OutputTokens = 20 } };
        resp.Parts.Add(new TextPart("Hi!"));
        var (back, converted) = RespondThrough(client, upstream, resp);

        Assert.Equal("Hi!", string.Concat(back.Parts.OfType<TextPart>().Select(t => t.Text)));
        Assert.Equal(StopReasons.EndTurn, back.StopReason);
        Assert.Equal("client-model", back.Model ?? Kit.Json(converted.Body).GetProperty("modelVersion").GetString());
        Assert.Equal(100, back.Usage.InputTokens);
        Assert.Equal(20, back.Usage.OutputTokens);
        Assert.Equal(100, converted.Usage.InputTokens);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Thinking_answer_keeps_reasoning_text_and_a_tagged_signature(string client, string upstream)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var resp = new ChatResponse();
        resp.Parts.Add(new ThinkingPart { Text = "Let me think.", Signature = u == ApiProtocol.OpenAIChat ? null : "sig-1", Origin = u });
        resp.Parts.Add(new TextPart("42"));
        var (back, _) = RespondThrough(client, upstream, resp);

        var thinking = Assert.Single(back.Parts.OfType<ThinkingPart>());
        Assert.Equal("Let me think.", thinking.Text);
        Assert.Equal("42", back.Parts.OfType<TextPart>().Single().Text);
        if (c == ApiProtocol.OpenAIChat) return; // Chat Completions has no field for signatures.
        var expected = u == ApiProtocol.OpenAIChat ? null : "sig-1";
        Signatures.Untag(thinking.Signature, c, out var origin, out var sig, out _);
        Assert.Equal(u, origin);
        Assert.Equal(expected, sig);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Tool_call_answer_converts_with_arguments_and_tool_use_stop(string client, string upstream)
    {
        var resp = new ChatResponse { StopReason = StopReasons.ToolUse };
        resp.Parts.Add(new TextPart("Checking."));
        resp.Parts.Add(new ToolCallPart { Id = "call_9", Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" });
        var (back, _) = RespondThrough(client, upstream, resp);

        var call = Assert.Single(back.Parts.OfType<ToolCallPart>());
        Assert.Equal("get_weather", call.Name);
        Assert.True(Kit.JsonEquals("{\"city\":\"Paris\"}", call.Arguments));
        Assert.Equal(StopReasons.ToolUse, back.StopReason);
        Assert.Equal("Checking.", back.Parts.OfType<TextPart>().Single().Text);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Usage_with_cache_tokens_keeps_the_all_inclusive_input_count(string client, string upstream)
    {
        var u = Kit.P(upstream);
        var resp = new ChatResponse
        {
            Usage = new Usage { InputTokens = 1000, CacheReadTokens = 800, CacheWriteTokens = u == ApiProtocol.Anthropic ? 100 : 0, OutputTokens = 50 },
        };
        resp.Parts.Add(new TextPart("ok"));
        var (back, converted) = RespondThrough(client, upstream, resp);

        Assert.Equal(1000, converted.Usage.InputTokens);
        Assert.Equal(800, converted.Usage.CacheReadTokens);
        Assert.Equal(u == ApiProtocol.Anthropic ? 100 : 0, converted.Usage.CacheWriteTokens);
        Assert.Equal(1000, back.Usage.InputTokens);
        Assert.Equal(800, back.Usage.CacheReadTokens);
        Assert.Equal(50, back.Usage.OutputTokens);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Each_stop_reason_maps_to_the_clients_equivalent(string client, string upstream)
    {
        foreach (var reason in new[] { StopReasons.EndTurn, StopReasons.MaxTokens, StopReasons.ToolUse, StopReasons.ContentFilter })
        {
            var resp = new ChatResponse { StopReason = reason };
            resp.Parts.Add(new TextPart("x"));
            if (reason == StopReasons.ToolUse) resp.Parts.Add(new ToolCallPart { Id = "call_1", Name = "f", Arguments = "{}" });
            var (back, _) = RespondThrough(client, upstream, resp);
            Assert.Equal(Family(reason), Family(back.StopReason));
        }
    }

    /// <summary>Filtered answers are content_filter in OpenAI/Gemini and refusal in Anthropic: one family.</summary>
    internal static string Family(string reason) => reason is StopReasons.Refusal ? StopReasons.ContentFilter : reason;

    [Theory, MemberData(nameof(Pairs))]
    public void Upstream_error_becomes_the_clients_error_shape_and_status(string client, string upstream)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        foreach (var status in new[] { 400, 401, 404, 429, 500, 529 })
        {
            var (mapped, body) = Converter.ConvertError(u, c, status, ProtocolErrors.Body(u, status, "upstream says no"));
            Assert.Equal(status == 529 && c != ApiProtocol.Anthropic ? 503 : status, mapped);
            Assert.Equal("upstream says no", Converter.ReadErrorMessage(body));
            var json = Kit.Json(body);
            switch (c)
            {
                case ApiProtocol.Anthropic:
                    Assert.Equal("error", json.GetProperty("type").GetString());
                    Assert.Equal(ProtocolErrors.AnthropicType(mapped), json.GetProperty("error").GetProperty("type").GetString());
                    break;
                case ApiProtocol.Gemini:
                    Assert.Equal(mapped, json.GetProperty("error").GetProperty("code").GetInt32());
                    Assert.Equal(ProtocolErrors.GeminiStatus(mapped), json.GetProperty("error").GetProperty("status").GetString());
                    break;
                default:
                    Assert.Equal(ProtocolErrors.OpenAIType(mapped), json.GetProperty("error").GetProperty("type").GetString());
                    break;
            }
        }
    }

    // ---------- streams ----------

    private static Collected Stream(string client, string upstream, Action<IStreamSink> script, out IStreamTranscoder transcoder)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var output = Kit.Transcode(u, c, Kit.NativeStream(u, script), out transcoder);
        return Kit.ReadStream(c, output);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Streamed_text_arrives_whole_with_stop_and_usage(string client, string upstream)
    {
        var got = Stream(client, upstream, s =>
        {
            s.Start("id", "m");
            s.Text("Hel");
            s.Text("lo");
            s.Usage(new Usage { InputTokens = 10, OutputTokens = 2 });
            s.Finish(StopReasons.EndTurn);
        }, out var t);

        Assert.Equal("Hello", got.Text.ToString());
        Assert.Equal(StopReasons.EndTurn, got.Stop);
        Assert.Equal(10, got.Usage.InputTokens);
        Assert.Equal(2, got.Usage.OutputTokens);
        Assert.Equal(10, t.Usage.InputTokens);
        Assert.Equal(StopReasons.EndTurn, t.StopReason);
        Assert.True(t.IsClosed);
        Assert.Null(got.Error);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Streamed_thinking_comes_before_text_with_its_signature(string client, string upstream)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var got = Stream(client, upstream, s =>
        {
            s.Thinking("ponder ");
            s.Thinking("more");
            s.ThinkingSignature("sig-xyz");
            s.Text("Answer");
            s.Finish(StopReasons.EndTurn);
        }, out _);

        Assert.Equal("ponder more", got.Thinking.ToString());
        Assert.Equal("Answer", got.Text.ToString());
        Assert.StartsWith("k", got.Order.ToString());
        Assert.EndsWith("t", got.Order.ToString());
        if (c == ApiProtocol.OpenAIChat) return; // no signature field
        var expected = u == ApiProtocol.OpenAIChat ? null : "sig-xyz";
        var signature = got.Signatures.Last();
        Signatures.Untag(signature, c, out var origin, out var sig, out _);
        Assert.Equal(u, origin);
        Assert.Equal(expected, sig);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Streamed_parallel_tool_calls_keep_their_own_arguments(string client, string upstream)
    {
        var got = Stream(client, upstream, s =>
        {
            s.Text("Checking.");
            s.ToolCallStart(0, "call_1", "get_weather", null);
            s.ToolCallArguments(0, "{\"ci");
            s.ToolCallArguments(0, "ty\":\"Paris\"}");
            s.BlockEnd();
            s.ToolCallStart(1, "call_2", "get_time", null);
            s.ToolCallArguments(1, "{\"tz\":\"CET\"}");
            s.BlockEnd();
            s.Finish(StopReasons.ToolUse);
        }, out var t);

        Assert.Equal("Checking.", got.Text.ToString());
        Assert.Equal(2, got.Calls.Count);
        Assert.Equal("get_weather", got.Calls[0].Name);
        Assert.Equal("call_1", got.Calls[0].Id);
        Assert.True(Kit.JsonEquals("{\"city\":\"Paris\"}", got.Calls[0].Args.ToString()));
        Assert.Equal("get_time", got.Calls[1].Name);
        Assert.True(Kit.JsonEquals("{\"tz\":\"CET\"}", got.Calls[1].Args.ToString()));
        Assert.Equal(StopReasons.ToolUse, got.Stop);
        Assert.Equal(StopReasons.ToolUse, t.StopReason);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Streamed_usage_with_cache_tokens_is_reported_in_canonical_form(string client, string upstream)
    {
        var u = Kit.P(upstream);
        var got = Stream(client, upstream, s =>
        {
            s.Text("ok");
            s.Usage(new Usage { InputTokens = 1000, CacheReadTokens = 800, CacheWriteTokens = u == ApiProtocol.Anthropic ? 100 : 0, OutputTokens = 50, ReasoningTokens = 10 });
            s.Finish(StopReasons.EndTurn);
        }, out var t);

        Assert.Equal(1000, t.Usage.InputTokens);
        Assert.Equal(800, t.Usage.CacheReadTokens);
        Assert.Equal(u == ApiProtocol.Anthropic ? 100 : 0, t.Usage.CacheWriteTokens);
        Assert.Equal(50, t.Usage.OutputTokens);
        Assert.Equal(1000, got.Usage.InputTokens);
        Assert.Equal(800, got.Usage.CacheReadTokens);
        Assert.Equal(50, got.Usage.OutputTokens);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Streamed_stop_reasons_map_to_the_clients_equivalent(string client, string upstream)
    {
        foreach (var reason in new[] { StopReasons.EndTurn, StopReasons.MaxTokens, StopReasons.ToolUse, StopReasons.ContentFilter })
        {
            var got = Stream(client, upstream, s =>
            {
                s.Text("x");
                if (reason == StopReasons.ToolUse)
                {
                    s.ToolCallStart(0, "call_1", "f", null);
                    s.ToolCallArguments(0, "{}");
                }
                s.Finish(reason);
            }, out _);
            Assert.Equal(Family(reason), Family(got.Stop!));
        }
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Upstream_in_band_error_reaches_the_client_and_closes_the_stream(string client, string upstream)
    {
        var got = Stream(client, upstream, s =>
        {
            s.Text("partial");
            s.Error(529, "Overloaded");
        }, out var t);

        Assert.Equal("partial", got.Text.ToString());
        Assert.NotNull(got.Error);
        Assert.Contains("Overloaded", got.Error!.Value.Message);
        Assert.True(t.IsClosed);
    }

    [Theory, MemberData(nameof(Pairs))]
    public void OnEvent_reports_content_only_for_content_events(string client, string upstream)
    {
        var c = Kit.P(client);
        var u = Kit.P(upstream);
        var usageOnly = Kit.NativeStream(u, s => s.Start("id", "m"), complete: false);
        var text = Kit.NativeStream(u, s => s.Text("hi"), complete: false);
        var t = Converter.CreateStreamTranscoder(u, c, "m");
        var output = new ArrayBufferWriter<byte>();
        var flags = Kit.ParseSse(usageOnly).Select(ev => t.OnEvent(ev, output)).ToList();
        Assert.DoesNotContain(true, flags);
        var textFlags = Kit.ParseSse(text).Select(ev => t.OnEvent(ev, output)).ToList();
        Assert.Contains(true, textFlags);
    }
}
