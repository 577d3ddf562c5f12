using System.Buffers;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Tests.Protocols;

/// <summary>Event order and framing exactly as each official SDK expects, and incremental delivery.</summary>
public sealed class WireFormatTests
{
    private static void Script(IStreamSink s)
    {
        s.Start("up-1", "up-model");
        s.Thinking("Hmm");
        s.ThinkingSignature("sig");
        s.Text("Hello");
        s.Text(" world");
        s.ToolCallStart(0, "call_1", "get_weather", null);
        s.ToolCallArguments(0, "{\"city\":");
        s.ToolCallArguments(0, "\"Oslo\"}");
        s.Usage(new Usage { InputTokens = 12, OutputTokens = 7 });
        s.Finish(StopReasons.ToolUse);
    }

    private static List<(string? Event, string Data)> ClientEvents(ApiProtocol upstream, ApiProtocol client)
    {
        var output = Kit.Transcode(upstream, client, Kit.NativeStream(upstream, Script), out _);
        return Kit.ParseSse(output).Select(e => (e.EventType, Kit.Str(e.Data.ToArray()))).ToList();
    }

    [Theory]
    [InlineData("openai_chat")]
    [InlineData("openai_responses")]
    [InlineData("gemini")]
    public void Anthropic_stream_has_message_start_blocks_then_message_delta_and_message_stop(string upstream)
    {
        var events = ClientEvents(Kit.P(upstream), ApiProtocol.Anthropic);
        foreach (var (name, data) in events) Assert.Equal(name, Kit.Json(data).GetProperty("type").GetString());
        var names = events.Select(e => e.Event).ToList();
        Assert.Equal("message_start", names[0]);
        Assert.Equal(["message_delta", "message_stop"], names[^2..]);

        // Blocks open and close in order with consecutive indexes, one at a time.
        int? open = null;
        var next = 0;
        foreach (var (name, data) in events)
        {
            var json = Kit.Json(data);
            switch (name)
            {
                case "content_block_start":
                    Assert.Null(open);
                    Assert.Equal(next++, json.GetProperty("index").GetInt32());
                    open = json.GetProperty("index").GetInt32();
                    break;
                case "content_block_delta":
                    Assert.Equal(open, json.GetProperty("index").GetInt32());
                    break;
                case "content_block_stop":
                    Assert.Equal(open, json.GetProperty("index").GetInt32());
                    open = null;
                    break;
            }
        }
        Assert.Null(open);
        Assert.Equal(3, next);
        var start = Kit.Json(events[0].Data).GetProperty("message");
        Assert.StartsWith("msg_", start.GetProperty("id").GetString());
        Assert.Equal("client-model", start.GetProperty("model").GetString());
        Assert.Equal("tool_use", Kit.Json(events[^2].Data).GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai_responses")]
    [InlineData("gemini")]
    public void OpenAI_chat_stream_is_data_only_chunks_ending_with_DONE(string upstream)
    {
        var events = ClientEvents(Kit.P(upstream), ApiProtocol.OpenAIChat);
        Assert.All(events, e => Assert.Null(e.Event));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => Kit.Json(e.Data)).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var last = chunks[^1];
        Assert.Equal("tool_calls", last.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(12, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        var firstCall = chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta")).First(d => d.TryGetProperty("tool_calls", out _)).GetProperty("tool_calls")[0];
        Assert.Equal(0, firstCall.GetProperty("index").GetInt32());
        Assert.Equal("call_1", firstCall.GetProperty("id").GetString());
        Assert.Equal("function", firstCall.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai_chat")]
    [InlineData("gemini")]
    public void Responses_stream_starts_with_created_numbers_every_event_and_ends_with_completed(string upstream)
    {
        var events = ClientEvents(Kit.P(upstream), ApiProtocol.OpenAIResponses);
        var json = events.Select(e => Kit.Json(e.Data)).ToList();
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i].Event, json[i].GetProperty("type").GetString());
            Assert.Equal(i, json[i].GetProperty("sequence_number").GetInt32());
        }
        Assert.Equal("response.created", events[0].Event);
        Assert.Equal("response.in_progress", events[1].Event);
        Assert.Equal("response.completed", events[^1].Event);

        // Each item is added before its deltas and done after them; the final response lists the done items.
        var added = json.Where(j => j.GetProperty("type").GetString() == "response.output_item.added").ToList();
        var done = json.Where(j => j.GetProperty("type").GetString() == "response.output_item.done").ToList();
        Assert.Equal(added.Select(a => a.GetProperty("output_index").GetInt32()), done.Select(d => d.GetProperty("output_index").GetInt32()));
        Assert.Equal(Enumerable.Range(0, added.Count), added.Select(a => a.GetProperty("output_index").GetInt32()));
        var output = json[^1].GetProperty("response").GetProperty("output");
        Assert.Equal(done.Select(d => d.GetProperty("item").GetRawText()), output.EnumerateArray().Select(o => o.GetRawText()));
        Assert.Equal(["reasoning", "message", "function_call"], output.EnumerateArray().Select(o => o.GetProperty("type").GetString()));
        Assert.Equal("call_1", output[2].GetProperty("call_id").GetString());
        Assert.Equal("{\"city\":\"Oslo\"}", output[2].GetProperty("arguments").GetString());
        Assert.Equal("Hello world", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(12, json[^1].GetProperty("response").GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal("completed", json[^1].GetProperty("response").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("anthropic")]
    [InlineData("openai_chat")]
    [InlineData("openai_responses")]
    public void Gemini_stream_is_data_only_candidates_with_whole_function_calls(string upstream)
    {
        var events = ClientEvents(Kit.P(upstream), ApiProtocol.Gemini);
        Assert.All(events, e => Assert.Null(e.Event));
        var json = events.Select(e => Kit.Json(e.Data)).ToList();
        Assert.All(json, j => Assert.Equal("model", j.GetProperty("candidates")[0].GetProperty("content").GetProperty("role").GetString()));
        var last = json[^1].GetProperty("candidates")[0];
        Assert.Equal("STOP", last.GetProperty("finishReason").GetString());
        var call = json.SelectMany(j => j.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts").EnumerateArray())
            .Single(p => p.TryGetProperty("functionCall", out _)).GetProperty("functionCall");
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal("Oslo", call.GetProperty("args").GetProperty("city").GetString());
        Assert.Equal(12, json[^1].GetProperty("usageMetadata").GetProperty("promptTokenCount").GetInt32());
    }

    [Theory]
    [InlineData("openai_chat", "anthropic", "text_delta")]
    [InlineData("anthropic", "openai_chat", "\"content\":\"Hi\"")]
    [InlineData("openai_chat", "openai_responses", "response.output_text.delta")]
    [InlineData("openai_chat", "gemini", "\"text\":\"Hi\"")]
    public void First_token_reaches_the_client_before_the_upstream_finishes(string upstream, string client, string marker)
    {
        var u = Kit.P(upstream);
        var t = Converter.CreateStreamTranscoder(u, Kit.P(client), "m");
        var output = new ArrayBufferWriter<byte>();
        var sawContent = false;
        foreach (var ev in Kit.ParseSse(Kit.NativeStream(u, s => { s.Start("i", "m"); s.Text("Hi"); }, complete: false)))
            sawContent |= t.OnEvent(ev, output);
        Assert.True(sawContent);
        Assert.Contains(marker, Kit.Str(output.WrittenSpan.ToArray()));
        Assert.False(t.IsClosed);
    }

    [Theory]
    [InlineData("openai_chat")]
    [InlineData("openai_responses")]
    [InlineData("anthropic")]
    [InlineData("gemini")]
    public void Non_streamed_bodies_carry_the_fields_each_sdk_reads(string client)
    {
        var resp = new ChatResponse { StopReason = StopReasons.EndTurn, Usage = new Usage { InputTokens = 3, OutputTokens = 2 } };
        resp.Parts.Add(new TextPart("ok"));
        var body = Kit.Json(Converter.ConvertResponse(ApiProtocol.Gemini == Kit.P(client) ? ApiProtocol.Anthropic : ApiProtocol.Gemini,
            Kit.P(client), Kit.EncodeResponse(ApiProtocol.Gemini == Kit.P(client) ? ApiProtocol.Anthropic : ApiProtocol.Gemini, resp), "client-model").Body);
        switch (Kit.P(client))
        {
            case ApiProtocol.OpenAIChat:
                Assert.Equal("chat.completion", body.GetProperty("object").GetString());
                Assert.Equal("ok", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
                Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
                Assert.Equal(5, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
                break;
            case ApiProtocol.OpenAIResponses:
                Assert.Equal("response", body.GetProperty("object").GetString());
                Assert.Equal("completed", body.GetProperty("status").GetString());
                Assert.Equal("output_text", body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("type").GetString());
                break;
            case ApiProtocol.Anthropic:
                Assert.Equal("message", body.GetProperty("type").GetString());
                Assert.Equal("assistant", body.GetProperty("role").GetString());
                Assert.Equal("end_turn", body.GetProperty("stop_reason").GetString());
                Assert.Equal("client-model", body.GetProperty("model").GetString());
                break;
            case ApiProtocol.Gemini:
                Assert.Equal("STOP", body.GetProperty("candidates")[0].GetProperty("finishReason").GetString());
                Assert.Equal(5, body.GetProperty("usageMetadata").GetProperty("totalTokenCount").GetInt32());
                break;
        }
    }
}
