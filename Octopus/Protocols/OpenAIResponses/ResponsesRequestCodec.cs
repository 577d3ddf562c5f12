using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.OpenAIChat;

namespace Octopus.Protocols.OpenAIResponses;

/// <summary>OpenAI Responses request body ⇄ canonical request. The gateway is stateless: items are sent inline.</summary>
internal static class ResponsesRequestCodec
{
    public static ChatRequest Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "OpenAI Responses request");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("OpenAI Responses request must be a JSON object");

        var req = new ChatRequest
        {
            MaxTokens = root.Long("max_output_tokens"),
            Temperature = root.Double("temperature"),
            TopP = root.Double("top_p"),
            ParallelToolCalls = root.Bool("parallel_tool_calls"),
            PromptCacheKey = root.Str("prompt_cache_key"),
            User = root.Str("user") ?? root.Str("safety_identifier"),
        };

        if (root.Str("instructions") is { Length: > 0 } instructions)
        {
            var sys = new Message(Role.System);
            sys.Parts.Add(new TextPart(instructions));
            req.Messages.Add(sys);
        }
        if (root.Str("previous_response_id") is not null) ConversionLog.Dropped("previous_response_id (stateless conversion)");

        if (!root.Prop("input", out var input)) throw new ProtocolException("OpenAI Responses request needs `input`");
        if (input.ValueKind == JsonValueKind.String)
        {
            var msg = new Message(Role.User);
            msg.Parts.Add(new TextPart(input.GetString()!));
            req.Messages.Add(msg);
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in input.EnumerateArray()) DecodeItem(item, req.Messages);
        }
        else
        {
            throw new ProtocolException("OpenAI Responses `input` must be a string or an array");
        }

        foreach (var t in root.Arr("tools"))
        {
            var type = t.Str("type");
            if (type != "function" || t.Str("name") is not { } name)
            {
                ConversionLog.Dropped($"Responses tool of type {type}");
                continue;
            }
            req.Tools.Add(new ToolDefinition
            {
                Name = name,
                Description = t.Str("description"),
                Parameters = t.RawObject("parameters"),
                Strict = t.Bool("strict"),
            });
        }
        if (root.Prop("tool_choice", out var tc)) req.ToolChoice = OpenAIChatRequestCodec.DecodeToolChoice(tc);

        if (root.Obj("reasoning", out var reasoning))
        {
            var effort = reasoning.Str("effort");
            req.Reasoning = effort == "none"
                ? new ReasoningConfig { Disabled = true }
                : new ReasoningConfig { Effort = effort, Summary = reasoning.Str("summary") };
        }

        if (root.Obj("text", out var text) && text.Obj("format", out var format))
        {
            req.ResponseFormat = format.Str("type") switch
            {
                "json_object" => new ResponseFormat { Kind = ResponseFormatKind.JsonObject },
                "json_schema" => new ResponseFormat
                {
                    Kind = ResponseFormatKind.JsonSchema,
                    Name = format.Str("name"),
                    Schema = format.RawObject("schema"),
                    Strict = format.Bool("strict"),
                },
                _ => null,
            };
        }
        Canonicalizer.AttachCallSignatures(req.Messages);
        return req;
    }

    private static Message Assistant(List<Message> messages)
    {
        if (messages.Count > 0 && messages[^1].Role == Role.Assistant) return messages[^1];
        var msg = new Message(Role.Assistant);
        messages.Add(msg);
        return msg;
    }

    private static void DecodeItem(JsonElement item, List<Message> messages)
    {
        var type = item.Str("type") ?? (item.Prop("role", out _) ? "message" : null);
        switch (type)
        {
            case "message":
            {
                var role = item.Str("role");
                if (role == "assistant")
                {
                    DecodeContent(item, Assistant(messages).Parts);
                    break;
                }
                var msg = new Message(role is "system" or "developer" ? Role.System : Role.User);
                DecodeContent(item, msg.Parts);
                messages.Add(msg);
                break;
            }
            case "reasoning":
            {
                var sb = new System.Text.StringBuilder();
                foreach (var s in item.Arr("summary"))
                {
                    if (s.Str("text") is not { } t) continue;
                    if (sb.Length > 0) sb.Append("\n\n");
                    sb.Append(t);
                }
                if (sb.Length == 0)
                    foreach (var c in item.Arr("content")) if (c.Str("text") is { } t) sb.Append(t);
                Signatures.Untag(item.Str("encrypted_content"), ApiProtocol.OpenAIResponses, out var origin, out var sig, out var redacted);
                Assistant(messages).Parts.Add(new ThinkingPart { Text = sb.ToString(), Signature = sig, Origin = origin, Redacted = redacted });
                break;
            }
            case "function_call":
                Assistant(messages).Parts.Add(new ToolCallPart
                {
                    Id = item.Str("call_id") ?? throw new ProtocolException("Responses function_call needs `call_id`"),
                    Name = item.Str("name") ?? throw new ProtocolException("Responses function_call needs `name`"),
                    Arguments = item.Str("arguments") ?? "{}",
                });
                break;
            case "custom_tool_call":
                // Free-form tool input has no cross-protocol form: carried as {"input": "..."}.
                Assistant(messages).Parts.Add(new ToolCallPart
                {
                    Id = item.Str("call_id") ?? throw new ProtocolException("Responses custom_tool_call needs `call_id`"),
                    Name = item.Str("name") ?? "",
                    Arguments = System.Text.Encoding.UTF8.GetString(JsonWrite.ToBytes(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("input", item.Str("input") ?? "");
                        w.WriteEndObject();
                    })),
                });
                break;
            case "function_call_output":
            case "custom_tool_call_output":
            {
                var result = new ToolResultPart { CallId = item.Str("call_id") ?? throw new ProtocolException("Responses tool output needs `call_id`") };
                if (item.Prop("output", out var output))
                {
                    if (output.ValueKind == JsonValueKind.String) result.Content.Add(new TextPart(output.GetString()!));
                    else foreach (var p in output.EnumerateArrayOrEmpty()) DecodePart(p, result.Content);
                }
                if (messages.Count > 0 && messages[^1].Role == Role.User && messages[^1].Parts.TrueForAll(static p => p is ToolResultPart))
                {
                    messages[^1].Parts.Add(result);
                }
                else
                {
                    var msg = new Message(Role.User);
                    msg.Parts.Add(result);
                    messages.Add(msg);
                }
                break;
            }
            default:
                ConversionLog.Dropped($"Responses input item {type}");
                break;
        }
    }

    private static void DecodeContent(JsonElement item, List<Part> parts)
    {
        if (!item.Prop("content", out var content)) return;
        if (content.ValueKind == JsonValueKind.String) parts.Add(new TextPart(content.GetString()!));
        else foreach (var p in content.EnumerateArrayOrEmpty()) DecodePart(p, parts);
    }

    private static void DecodePart(JsonElement p, List<Part> parts)
    {
        switch (p.Str("type"))
        {
            case "input_text":
            case "output_text":
            case "text":
                parts.Add(new TextPart(p.Str("text") ?? ""));
                break;
            case "refusal":
                parts.Add(new RefusalPart(p.Str("refusal") ?? ""));
                break;
            case "input_image":
            {
                var url = p.Str("image_url");
                if (DataUrl.TryParse(url, out var mt, out var data)) parts.Add(new ImagePart { MediaType = mt, Data = data, Detail = p.Str("detail") });
                else if (url is not null) parts.Add(new ImagePart { Url = url, Detail = p.Str("detail") });
                else if (p.Str("file_id") is { } fileId) parts.Add(new ImagePart { FileId = fileId });
                break;
            }
            case "input_file":
            {
                var fileData = p.Str("file_data");
                if (DataUrl.TryParse(fileData, out var mt, out var data)) parts.Add(new DocumentPart { MediaType = mt, Data = data, FileName = p.Str("filename") });
                else if (p.Str("file_url") is { } url) parts.Add(new DocumentPart { Url = url, FileName = p.Str("filename") });
                else parts.Add(new DocumentPart { FileId = p.Str("file_id"), FileName = p.Str("filename") });
                break;
            }
            default:
                ConversionLog.Dropped($"Responses content part {p.Str("type")}");
                break;
        }
    }

    public static byte[] Encode(ChatRequest req, ConversionOptions options)
    {
        var model = options.UpstreamModel;
        var reasoning = req.Reasoning is { Disabled: false } ? req.Reasoning : null;
        var reasoningModel = reasoning is not null || OpenAIChatRequestCodec.IsOpenAIReasoningModel(model);
        return JsonWrite.ToBytes(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);

            var start = 0;
            var instructions = new List<Part>();
            while (start < req.Messages.Count && req.Messages[start].Role == Role.System) instructions.AddRange(req.Messages[start++].Parts);
            if (instructions.Count > 0) w.WriteString("instructions", Canonicalizer.JoinText(instructions, "\n"));

            w.WriteStartArray("input");
            for (var i = start; i < req.Messages.Count; i++) WriteItems(w, req.Messages[i]);
            w.WriteEndArray();

            if (req.Tools.Count > 0)
            {
                w.WriteStartArray("tools");
                foreach (var t in req.Tools)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "function");
                    w.WriteString("name", t.Name);
                    if (t.Description is not null) w.WriteString("description", t.Description);
                    w.Raw("parameters", t.Parameters ?? "{\"type\":\"object\",\"properties\":{}}");
                    // Responses defaults strict to true, which rejects most schemas written for other providers.
                    w.WriteBoolean("strict", t.Strict ?? false);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (req.ToolChoice is { } choice)
                {
                    switch (choice.Kind)
                    {
                        case ToolChoiceKind.None: w.WriteString("tool_choice", "none"); break;
                        case ToolChoiceKind.Required: w.WriteString("tool_choice", "required"); break;
                        case ToolChoiceKind.Tool:
                            w.WriteStartObject("tool_choice");
                            w.WriteString("type", "function");
                            w.WriteString("name", choice.Name ?? "");
                            w.WriteEndObject();
                            break;
                        default: w.WriteString("tool_choice", "auto"); break;
                    }
                }
                if (req.ParallelToolCalls is { } parallel) w.WriteBoolean("parallel_tool_calls", parallel);
            }

            if (req.MaxTokens is { } max) w.WriteNumber("max_output_tokens", Math.Max(16, max));
            if (OpenAIChatRequestCodec.IsOpenAIReasoningModel(model) && (req.Temperature is not null || req.TopP is not null))
            {
                ConversionLog.Dropped("temperature/top_p (OpenAI reasoning models accept only defaults)");
            }
            else
            {
                if (req.Temperature is { } temp) w.WriteNumber("temperature", temp);
                if (req.TopP is { } topP) w.WriteNumber("top_p", topP);
            }
            if (req.StopSequences.Count > 0) ConversionLog.Dropped("stop sequences (Responses has none)");

            if (reasoning is not null)
            {
                w.WriteStartObject("reasoning");
                w.WriteString("effort", OpenAIChatRequestCodec.OpenAIEffort(reasoning.ResolveEffort()));
                w.WriteString("summary", reasoning.Summary ?? "auto");
                w.WriteEndObject();
            }

            if (req.ResponseFormat is { Kind: not ResponseFormatKind.Text } format)
            {
                w.WriteStartObject("text");
                w.WriteStartObject("format");
                if (format.Kind == ResponseFormatKind.JsonObject || format.Schema is null)
                {
                    w.WriteString("type", "json_object");
                }
                else
                {
                    w.WriteString("type", "json_schema");
                    w.WriteString("name", format.Name ?? "response");
                    w.Raw("schema", format.Schema);
                    if (format.Strict is { } strict) w.WriteBoolean("strict", strict);
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }

            // Stateless: nothing stored upstream, so reasoning must come back encrypted to be replayed next turn.
            w.WriteBoolean("store", false);
            if (reasoningModel)
            {
                w.WriteStartArray("include");
                w.WriteStringValue("reasoning.encrypted_content");
                w.WriteEndArray();
            }
            var cacheKey = req.PromptCacheKey ?? options.ConversationId;
            if (cacheKey is not null) w.WriteString("prompt_cache_key", cacheKey);
            if (req.User is not null) w.WriteString("user", req.User);
            if (options.Stream) w.WriteBoolean("stream", true);
            w.WriteEndObject();
        }, 4096);
    }

    private static void WriteItems(Utf8JsonWriter w, Message m)
    {
        switch (m.Role)
        {
            case Role.System:
                WriteInputMessage(w, "system", m.Parts);
                return;
            case Role.User:
            {
                foreach (var p in m.Parts)
                {
                    if (p is not ToolResultPart result) continue;
                    w.WriteStartObject();
                    w.WriteString("type", "function_call_output");
                    w.WriteString("call_id", result.CallId);
                    if (result.Content.Exists(static c => c is ImagePart))
                    {
                        w.WriteStartArray("output");
                        if (result.IsError) InputText(w, "Error:");
                        foreach (var c in result.Content) WriteInputPart(w, c);
                        w.WriteEndArray();
                    }
                    else
                    {
                        var text = result.JoinedText();
                        w.WriteString("output", result.IsError ? "Error: " + text : text);
                    }
                    w.WriteEndObject();
                }
                var rest = m.Parts.FindAll(static p => p is not ToolResultPart);
                if (rest.Count > 0) WriteInputMessage(w, "user", rest);
                return;
            }
            case Role.Assistant:
            {
                var text = new List<Part>();
                foreach (var p in m.Parts)
                {
                    if (p is TextPart or RefusalPart)
                    {
                        text.Add(p);
                        continue;
                    }
                    FlushText(w, text);
                    switch (p)
                    {
                        case ThinkingPart { Origin: ApiProtocol.OpenAIResponses, Redacted: false, Signature: { } sig } th:
                            w.WriteStartObject();
                            w.WriteString("type", "reasoning");
                            w.WriteStartArray("summary");
                            if (th.Text.Length > 0)
                            {
                                w.WriteStartObject();
                                w.WriteString("type", "summary_text");
                                w.WriteString("text", th.Text);
                                w.WriteEndObject();
                            }
                            w.WriteEndArray();
                            w.WriteString("encrypted_content", sig);
                            w.WriteEndObject();
                            break;
                        case ThinkingPart:
                            ConversionLog.Dropped("reasoning without OpenAI encrypted content");
                            break;
                        case ToolCallPart call:
                            w.WriteStartObject();
                            w.WriteString("type", "function_call");
                            w.WriteString("call_id", call.Id);
                            w.WriteString("name", call.Name);
                            w.WriteString("arguments", call.Arguments);
                            w.WriteEndObject();
                            break;
                    }
                }
                FlushText(w, text);
                return;
            }
        }
    }

    private static void FlushText(Utf8JsonWriter w, List<Part> text)
    {
        if (text.Count == 0) return;
        w.WriteStartObject();
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        foreach (var p in text)
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
                w.WriteString("text", ((TextPart)p).Text);
                w.WriteStartArray("annotations");
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        text.Clear();
    }

    private static void WriteInputMessage(Utf8JsonWriter w, string role, List<Part> parts)
    {
        w.WriteStartObject();
        w.WriteString("type", "message");
        w.WriteString("role", role);
        w.WriteStartArray("content");
        foreach (var p in parts) WriteInputPart(w, p);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void InputText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "input_text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteInputPart(Utf8JsonWriter w, Part p)
    {
        switch (p)
        {
            case TextPart t:
                InputText(w, t.Text);
                return;
            case RefusalPart r:
                InputText(w, r.Text);
                return;
            case ImagePart img:
                w.WriteStartObject();
                w.WriteString("type", "input_image");
                if (img.AsUrl() is { } url) w.WriteString("image_url", url);
                else if (img.FileId is not null) w.WriteString("file_id", img.FileId);
                w.WriteString("detail", img.Detail ?? "auto");
                w.WriteEndObject();
                return;
            case DocumentPart { Text: { } text } doc:
                InputText(w, doc.FileName is null ? text : doc.FileName + "\n" + text);
                return;
            case DocumentPart doc:
                w.WriteStartObject();
                w.WriteString("type", "input_file");
                if (doc.AsDataUrl() is { } data)
                {
                    w.WriteString("filename", doc.FileName ?? "document.pdf");
                    w.WriteString("file_data", data);
                }
                else if (doc.Url is not null)
                {
                    w.WriteString("file_url", doc.Url);
                }
                else
                {
                    w.WriteString("file_id", doc.FileId ?? "");
                }
                w.WriteEndObject();
                return;
            default:
                ConversionLog.Dropped($"{p.GetType().Name} in a Responses input message");
                return;
        }
    }
}
