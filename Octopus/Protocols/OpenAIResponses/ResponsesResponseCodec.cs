using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.OpenAIResponses;

/// <summary>OpenAI Responses non-streamed response ⇄ canonical response, and the item/response writers the stream shares.</summary>
internal static class ResponsesResponseCodec
{
    public static ChatResponse Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "OpenAI Responses response");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.Prop("output", out var output) || output.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("OpenAI Responses response needs an `output` array");
        var resp = new ChatResponse { Id = root.Str("id"), Model = root.Str("model") };
        foreach (var item in output.EnumerateArray()) DecodeOutputItem(item, resp.Parts);
        resp.StopReason = StopReasonOf(root, resp.HasToolCalls());
        if (root.Obj("usage", out var usage)) resp.Usage = ReadUsage(usage);
        return resp;
    }

    internal static void DecodeOutputItem(JsonElement item, List<Part> parts)
    {
        switch (item.Str("type"))
        {
            case "message":
                foreach (var c in item.Arr("content"))
                {
                    switch (c.Str("type"))
                    {
                        case "output_text": parts.Add(new TextPart(c.Str("text") ?? "")); break;
                        case "refusal": parts.Add(new RefusalPart(c.Str("refusal") ?? "")); break;
                    }
                }
                break;
            case "reasoning":
                parts.Add(new ThinkingPart { Text = ReasoningText(item), Signature = item.Str("encrypted_content"), Origin = ApiProtocol.OpenAIResponses });
                break;
            case "function_call":
                parts.Add(new ToolCallPart { Id = item.Str("call_id") ?? Ids.New("call_"), Name = item.Str("name") ?? "", Arguments = item.Str("arguments") ?? "{}" });
                break;
            default:
                ConversionLog.Dropped($"Responses output item {item.Str("type")}");
                break;
        }
    }

    internal static string ReasoningText(JsonElement item)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var s in item.Arr("summary"))
        {
            if (s.Str("text") is not { } t) continue;
            if (sb.Length > 0) sb.Append("\n\n");
            sb.Append(t);
        }
        if (sb.Length == 0) foreach (var c in item.Arr("content")) if (c.Str("text") is { } t) sb.Append(t);
        return sb.ToString();
    }

    internal static string StopReasonOf(JsonElement response, bool hasToolCalls)
    {
        switch (response.Str("status"))
        {
            case "incomplete":
                var reason = response.Obj("incomplete_details", out var details) ? details.Str("reason") : null;
                return reason == "content_filter" ? StopReasons.ContentFilter : StopReasons.MaxTokens;
            case "failed":
                return StopReasons.Error;
            default:
                return hasToolCalls ? StopReasons.ToolUse : StopReasons.EndTurn;
        }
    }

    /// <summary>Responses input_tokens includes cached tokens, like canonical input.</summary>
    public static Usage ReadUsage(JsonElement usage) => new()
    {
        InputTokens = usage.Long("input_tokens") ?? 0,
        OutputTokens = usage.Long("output_tokens") ?? 0,
        CacheReadTokens = usage.Obj("input_tokens_details", out var id) ? id.Long("cached_tokens") ?? 0 : 0,
        ReasoningTokens = usage.Obj("output_tokens_details", out var od) ? od.Long("reasoning_tokens") ?? 0 : 0,
    };

    public static void WriteUsage(Utf8JsonWriter w, in Usage u)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", u.InputTokens);
        w.WriteStartObject("input_tokens_details");
        w.WriteNumber("cached_tokens", u.CacheReadTokens);
        w.WriteEndObject();
        w.WriteNumber("output_tokens", u.OutputTokens);
        w.WriteStartObject("output_tokens_details");
        w.WriteNumber("reasoning_tokens", u.ReasoningTokens);
        w.WriteEndObject();
        w.WriteNumber("total_tokens", u.InputTokens + u.OutputTokens);
        w.WriteEndObject();
    }

    public static void WriteMessageItem(Utf8JsonWriter w, string id, string status, IReadOnlyList<Part> content)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "message");
        w.WriteString("status", status);
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        foreach (var p in content) WriteContentPart(w, p);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteContentPart(Utf8JsonWriter w, Part p)
    {
        w.WriteStartObject();
        if (p is RefusalPart r)
        {
            w.WriteString("type", "refusal");
            w.WriteString("refusal", r.Text);
        }
        else
        {
            w.WriteString("type", "output_text");
            w.WriteString("text", (p as TextPart)?.Text ?? "");
            w.WriteStartArray("annotations");
            w.WriteEndArray();
            w.WriteStartArray("logprobs");
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public static void WriteReasoningItem(Utf8JsonWriter w, string id, string summary, string? encryptedContent)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "reasoning");
        w.WriteStartArray("summary");
        if (summary.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("type", "summary_text");
            w.WriteString("text", summary);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (encryptedContent is not null) w.WriteString("encrypted_content", encryptedContent);
        w.WriteEndObject();
    }

    public static void WriteFunctionCallItem(Utf8JsonWriter w, string id, string status, string callId, string name, string arguments)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "function_call");
        w.WriteString("status", status);
        w.WriteString("arguments", arguments);
        w.WriteString("call_id", callId);
        w.WriteString("name", name);
        w.WriteEndObject();
    }

    /// <summary>The response object (for response.created/completed and non-streamed bodies).</summary>
    public static void WriteResponse(Utf8JsonWriter w, string id, long createdAt, string model, string stopReason, bool inProgress,
        IReadOnlyList<byte[]> items, Usage? usage)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", createdAt);
        var incomplete = !inProgress && stopReason is StopReasons.MaxTokens or StopReasons.ContentFilter or StopReasons.Refusal;
        w.WriteString("status", inProgress ? "in_progress" : incomplete ? "incomplete" : "completed");
        w.WriteNull("error");
        if (incomplete)
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", stopReason == StopReasons.MaxTokens ? "max_output_tokens" : "content_filter");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }
        w.WriteNull("instructions");
        w.WriteNull("max_output_tokens");
        w.WriteString("model", model);
        w.WriteStartArray("output");
        foreach (var item in items) w.WriteRawValue(item, skipInputValidation: true);
        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls", true);
        w.WriteNull("previous_response_id");
        w.WriteStartObject("reasoning");
        w.WriteNull("effort");
        w.WriteNull("summary");
        w.WriteEndObject();
        w.WriteBoolean("store", false);
        w.WriteStartObject("text");
        w.WriteStartObject("format");
        w.WriteString("type", "text");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("tool_choice", "auto");
        w.WriteStartArray("tools");
        w.WriteEndArray();
        w.WriteString("truncation", "disabled");
        if (usage is { } u) WriteUsage(w, u); else w.WriteNull("usage");
        w.WriteStartObject("metadata");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static byte[] Encode(ChatResponse resp, ApiProtocol upstream, string clientModel)
    {
        var items = new List<byte[]>();
        var text = new List<Part>();
        foreach (var p in resp.Parts)
        {
            if (p is TextPart or RefusalPart)
            {
                text.Add(p);
                continue;
            }
            FlushText();
            switch (p)
            {
                case ThinkingPart th:
                    items.Add(JsonWrite.ToBytes(w => WriteReasoningItem(w, Ids.New("rs_"), th.Text, Signatures.ForClient(ApiProtocol.OpenAIResponses, th.Origin ?? upstream, th.Signature, th.Redacted))));
                    break;
                case ToolCallPart call:
                    if (call.ThoughtSignature is not null)
                        items.Add(JsonWrite.ToBytes(w => WriteReasoningItem(w, Ids.New("rs_"), "", Signatures.Tag(ApiProtocol.Gemini, call.ThoughtSignature))));
                    items.Add(JsonWrite.ToBytes(w => WriteFunctionCallItem(w, Ids.New("fc_"), "completed", call.Id, call.Name, call.Arguments)));
                    break;
            }
        }
        FlushText();
        var stop = resp.HasToolCalls() && resp.StopReason == StopReasons.EndTurn ? StopReasons.ToolUse : resp.StopReason;
        return JsonWrite.ToBytes(w => WriteResponse(w, Ids.New("resp_"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), clientModel, stop, false, items, resp.Usage));

        void FlushText()
        {
            if (text.Count == 0) return;
            var content = text.ToArray();
            items.Add(JsonWrite.ToBytes(w => WriteMessageItem(w, Ids.New("msg_"), "completed", content)));
            text.Clear();
        }
    }
}
