using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.OpenAIChat;

/// <summary>OpenAI Chat Completions request body ⇄ canonical request (also OpenAI-compatible and Volcengine).</summary>
internal static class OpenAIChatRequestCodec
{
    public static ChatRequest Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "OpenAI Chat request");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("OpenAI Chat request must be a JSON object");
        if (!root.Prop("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("OpenAI Chat request needs a `messages` array");

        var req = new ChatRequest
        {
            MaxTokens = root.Long("max_completion_tokens") ?? root.Long("max_tokens"),
            Temperature = root.Double("temperature"),
            TopP = root.Double("top_p"),
            TopK = root.Long("top_k"),
            FrequencyPenalty = root.Double("frequency_penalty"),
            PresencePenalty = root.Double("presence_penalty"),
            Seed = root.Long("seed"),
            ParallelToolCalls = root.Bool("parallel_tool_calls"),
            PromptCacheKey = root.Str("prompt_cache_key"),
            User = root.Str("user") ?? root.Str("safety_identifier"),
        };

        foreach (var m in messages.EnumerateArray()) DecodeMessage(m, req.Messages);

        foreach (var t in root.Arr("tools"))
        {
            if (t.Str("type") is { } type && type != "function")
            {
                ConversionLog.Dropped($"OpenAI tool of type {type}");
                continue;
            }
            if (!t.Obj("function", out var f) || f.Str("name") is not { } name) throw new ProtocolException("OpenAI tool needs `function.name`");
            req.Tools.Add(new ToolDefinition
            {
                Name = name,
                Description = f.Str("description"),
                Parameters = f.RawObject("parameters"),
                Strict = f.Bool("strict"),
                CacheControl = t.RawObject("cache_control"),
            });
        }
        // Legacy `functions`.
        foreach (var f in root.Arr("functions"))
        {
            if (f.Str("name") is not { } name) continue;
            req.Tools.Add(new ToolDefinition { Name = name, Description = f.Str("description"), Parameters = f.RawObject("parameters") });
        }

        if (root.Prop("tool_choice", out var tc)) req.ToolChoice = DecodeToolChoice(tc);

        if (root.Prop("stop", out var stop))
        {
            if (stop.ValueKind == JsonValueKind.String) req.StopSequences.Add(stop.GetString()!);
            else foreach (var s in stop.EnumerateArrayOrEmpty()) if (s.AsString() is { } v) req.StopSequences.Add(v);
        }

        var effort = root.Str("reasoning_effort");
        if (effort is null && root.Obj("reasoning", out var reasoning)) effort = reasoning.Str("effort");
        if (effort is not null) req.Reasoning = effort == "none" ? new ReasoningConfig { Disabled = true } : new ReasoningConfig { Effort = effort };
        // Non-standard but common on OpenAI-compatible gateways: Anthropic-style thinking.
        if (root.Obj("thinking", out var thinking))
        {
            switch (thinking.Str("type"))
            {
                case "enabled":
                    req.Reasoning ??= new ReasoningConfig();
                    req.Reasoning.BudgetTokens = thinking.Long("budget_tokens");
                    break;
                case "disabled":
                    req.Reasoning = new ReasoningConfig { Disabled = true };
                    break;
            }
        }

        if (root.Obj("response_format", out var rf))
        {
            switch (rf.Str("type"))
            {
                case "json_object":
                    req.ResponseFormat = new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
                    break;
                case "json_schema":
                    rf.Obj("json_schema", out var js);
                    req.ResponseFormat = new ResponseFormat
                    {
                        Kind = ResponseFormatKind.JsonSchema,
                        Name = js.Str("name"),
                        Schema = js.RawObject("schema"),
                        Strict = js.Bool("strict"),
                    };
                    break;
            }
        }

        if (root.Long("n") is > 1) ConversionLog.Dropped("n > 1 (one choice is converted)");
        Canonicalizer.AttachCallSignatures(req.Messages);
        return req;
    }

    internal static ToolChoice? DecodeToolChoice(JsonElement tc)
    {
        if (tc.ValueKind == JsonValueKind.String)
        {
            return tc.GetString() switch
            {
                "none" => new ToolChoice(ToolChoiceKind.None),
                "required" => new ToolChoice(ToolChoiceKind.Required),
                "auto" => new ToolChoice(ToolChoiceKind.Auto),
                _ => null,
            };
        }
        if (tc.ValueKind != JsonValueKind.Object) return null;
        var name = tc.Obj("function", out var f) ? f.Str("name") : tc.Str("name");
        return name is null ? null : new ToolChoice(ToolChoiceKind.Tool, name);
    }

    private static void DecodeMessage(JsonElement m, List<Message> messages)
    {
        var role = m.Str("role");
        m.Prop("content", out var content);
        switch (role)
        {
            case "system":
            case "developer":
            {
                var msg = new Message(Role.System);
                DecodeContent(content, msg.Parts);
                messages.Add(msg);
                break;
            }
            case "user":
            {
                var msg = new Message(Role.User);
                DecodeContent(content, msg.Parts);
                messages.Add(msg);
                break;
            }
            case "assistant":
            {
                var msg = new Message(Role.Assistant);
                var reasoning = m.Str("reasoning_content") ?? m.Str("reasoning");
                if (!string.IsNullOrEmpty(reasoning)) msg.Parts.Add(new ThinkingPart { Text = reasoning, Origin = ApiProtocol.OpenAIChat });
                DecodeContent(content, msg.Parts);
                if (m.Str("refusal") is { Length: > 0 } refusal) msg.Parts.Add(new RefusalPart(refusal));
                foreach (var call in m.Arr("tool_calls"))
                {
                    call.Obj("function", out var f);
                    msg.Parts.Add(new ToolCallPart
                    {
                        Id = call.Str("id") ?? throw new ProtocolException("OpenAI tool call needs an `id`"),
                        Name = f.Str("name") ?? throw new ProtocolException("OpenAI tool call needs `function.name`"),
                        Arguments = f.Str("arguments") ?? "{}",
                        ThoughtSignature = ReadGoogleSignature(call),
                    });
                }
                if (m.Obj("function_call", out var legacy) && legacy.Str("name") is { } legacyName)
                    msg.Parts.Add(new ToolCallPart { Id = "call_" + legacyName, Name = legacyName, Arguments = legacy.Str("arguments") ?? "{}" });
                messages.Add(msg);
                break;
            }
            case "tool":
            case "function":
            {
                var result = new ToolResultPart
                {
                    CallId = m.Str("tool_call_id") ?? (role == "function" ? "call_" + m.Str("name") : null)
                        ?? throw new ProtocolException("OpenAI tool message needs `tool_call_id`"),
                    Name = role == "function" ? m.Str("name") : null,
                };
                DecodeContent(content, result.Content);
                // Consecutive tool messages answer one assistant turn: keep them in one user turn.
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
                throw new ProtocolException($"OpenAI message role `{role}` is not supported");
        }
    }

    internal static string? ReadGoogleSignature(JsonElement call) =>
        call.Obj("extra_content", out var extra) && extra.Obj("google", out var google) ? google.Str("thought_signature") : null;

    private static void DecodeContent(JsonElement content, List<Part> parts)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            parts.Add(new TextPart(content.GetString()!));
            return;
        }
        foreach (var p in content.EnumerateArrayOrEmpty())
        {
            Part? part;
            switch (p.Str("type"))
            {
                case "text":
                    part = new TextPart(p.Str("text") ?? "");
                    break;
                case "image_url":
                {
                    var url = p.Obj("image_url", out var iu) ? iu.Str("url") : p.Str("image_url");
                    if (url is null) throw new ProtocolException("OpenAI image_url part needs a url");
                    part = DataUrl.TryParse(url, out var mt, out var data)
                        ? new ImagePart { MediaType = mt, Data = data, Detail = iu.Str("detail") }
                        : new ImagePart { Url = url, Detail = iu.Str("detail") };
                    break;
                }
                case "file":
                {
                    p.Obj("file", out var f);
                    var fileData = f.Str("file_data");
                    part = DataUrl.TryParse(fileData, out var mt, out var data)
                        ? new DocumentPart { MediaType = mt, Data = data, FileName = f.Str("filename") }
                        : new DocumentPart { FileId = f.Str("file_id"), FileName = f.Str("filename") };
                    break;
                }
                case "refusal":
                    part = new RefusalPart(p.Str("refusal") ?? "");
                    break;
                default:
                    ConversionLog.Dropped($"OpenAI content part {p.Str("type")}");
                    continue;
            }
            part.CacheControl = p.RawObject("cache_control");
            parts.Add(part);
        }
    }

    /// <summary>OpenAI reasoning models (o-series, GPT-5) take max_completion_tokens and no sampling knobs.</summary>
    internal static bool IsOpenAIReasoningModel(string model)
    {
        var m = model.AsSpan();
        var slash = m.LastIndexOf('/');
        if (slash >= 0) m = m[(slash + 1)..];
        return m.StartsWith("o1") || m.StartsWith("o3") || m.StartsWith("o4") || m.StartsWith("gpt-5") || m.StartsWith("codex");
    }

    /// <summary>OpenAI families known to reject reasoning_effort.</summary>
    private static bool IsKnownNonReasoningModel(string model) =>
        model.StartsWith("gpt-4", StringComparison.Ordinal) || model.StartsWith("gpt-3.5", StringComparison.Ordinal)
        || model.StartsWith("chatgpt-", StringComparison.Ordinal);

    internal static string OpenAIEffort(string effort) => effort switch
    {
        "max" => "high",
        _ => effort,
    };

    public static byte[] Encode(ChatRequest req, ConversionOptions options)
    {
        var model = options.UpstreamModel;
        var volc = options.ChannelType == ChannelType.Volcengine;
        var reasoningModel = IsOpenAIReasoningModel(model);
        return JsonWrite.ToBytes(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            foreach (var m in req.Messages) WriteMessage(w, m);
            w.WriteEndArray();

            if (req.Tools.Count > 0)
            {
                w.WriteStartArray("tools");
                foreach (var t in req.Tools)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", t.Name);
                    if (t.Description is not null) w.WriteString("description", t.Description);
                    w.Raw("parameters", t.Parameters ?? "{\"type\":\"object\",\"properties\":{}}");
                    if (t.Strict is { } strict) w.WriteBoolean("strict", strict);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (req.ToolChoice is { } choice) WriteToolChoice(w, choice);
                if (req.ParallelToolCalls is { } parallel) w.WriteBoolean("parallel_tool_calls", parallel);
            }

            if (req.MaxTokens is { } max) w.WriteNumber(reasoningModel ? "max_completion_tokens" : "max_tokens", max);
            if (reasoningModel && (req.Temperature is not null || req.TopP is not null))
            {
                ConversionLog.Dropped("temperature/top_p (OpenAI reasoning models accept only defaults)");
            }
            else
            {
                if (req.Temperature is { } temp) w.WriteNumber("temperature", temp);
                if (req.TopP is { } topP) w.WriteNumber("top_p", topP);
            }
            if (req.FrequencyPenalty is { } fp) w.WriteNumber("frequency_penalty", fp);
            if (req.PresencePenalty is { } pp) w.WriteNumber("presence_penalty", pp);
            if (req.Seed is { } seed) w.WriteNumber("seed", seed);
            if (req.StopSequences.Count > 0)
            {
                w.WriteStartArray("stop");
                foreach (var s in req.StopSequences) w.WriteStringValue(s);
                w.WriteEndArray();
            }

            if (req.Reasoning is { } reasoning)
            {
                if (volc)
                {
                    // Volcengine (Doubao Seed) switches thinking with its own `thinking.type` and takes an effort
                    // of minimal|low|medium|high.
                    w.WriteStartObject("thinking");
                    w.WriteString("type", reasoning.Disabled ? "disabled" : "enabled");
                    w.WriteEndObject();
                    if (!reasoning.Disabled)
                        w.WriteString("reasoning_effort", reasoning.ResolveEffort() switch { "xhigh" or "max" => "high", var e => e });
                }
                else if (reasoning.Disabled)
                {
                    ConversionLog.Dropped("disabled reasoning (OpenAI Chat has no portable off switch)");
                }
                else if (IsKnownNonReasoningModel(model))
                {
                    ConversionLog.Dropped("reasoning effort for a non-reasoning model");
                }
                else
                {
                    w.WriteString("reasoning_effort", OpenAIEffort(reasoning.ResolveEffort()));
                }
            }

            if (req.ResponseFormat is { } format) WriteResponseFormat(w, format);

            // Never minted per request: the client's key, else the relay's stable conversation id.
            var cacheKey = req.PromptCacheKey ?? options.ConversationId;
            if (cacheKey is not null && !volc) w.WriteString("prompt_cache_key", cacheKey);
            if (req.User is not null && !volc) w.WriteString("user", req.User);

            if (options.Stream)
            {
                w.WriteBoolean("stream", true);
                w.WriteStartObject("stream_options");
                w.WriteBoolean("include_usage", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();

            void WriteMessage(Utf8JsonWriter w, Message m)
            {
                switch (m.Role)
                {
                    case Role.System:
                        w.WriteStartObject();
                        w.WriteString("role", "system");
                        w.WriteString("content", Canonicalizer.JoinText(m.Parts, "\n"));
                        w.WriteEndObject();
                        break;
                    case Role.User:
                        WriteUserMessage(w, m);
                        break;
                    case Role.Assistant:
                        WriteAssistantMessage(w, m);
                        break;
                }
            }
        }, 4096);
    }

    private static void WriteToolChoice(Utf8JsonWriter w, ToolChoice choice)
    {
        switch (choice.Kind)
        {
            case ToolChoiceKind.None: w.WriteString("tool_choice", "none"); break;
            case ToolChoiceKind.Required: w.WriteString("tool_choice", "required"); break;
            case ToolChoiceKind.Tool:
                w.WriteStartObject("tool_choice");
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", choice.Name ?? "");
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default: w.WriteString("tool_choice", "auto"); break;
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter w, ResponseFormat format)
    {
        if (format.Kind == ResponseFormatKind.Text) return;
        w.WriteStartObject("response_format");
        if (format.Kind == ResponseFormatKind.JsonObject || format.Schema is null)
        {
            w.WriteString("type", "json_object");
        }
        else
        {
            w.WriteString("type", "json_schema");
            w.WriteStartObject("json_schema");
            w.WriteString("name", format.Name ?? "response");
            w.Raw("schema", format.Schema);
            if (format.Strict is { } strict) w.WriteBoolean("strict", strict);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteUserMessage(Utf8JsonWriter w, Message m)
    {
        // Tool results become `tool` messages, in order, ahead of the rest of the turn.
        var media = new List<Part>();
        foreach (var p in m.Parts)
        {
            if (p is not ToolResultPart result) continue;
            w.WriteStartObject();
            w.WriteString("role", "tool");
            w.WriteString("tool_call_id", result.CallId);
            var text = result.JoinedText();
            // OpenAI has no error flag on tool results; say it in the content so the model still sees the failure.
            w.WriteString("content", result.IsError ? "Error: " + text : text);
            w.WriteEndObject();
            foreach (var c in result.Content) if (c is ImagePart or DocumentPart { Text: null }) media.Add(c);
        }
        var rest = m.Parts.FindAll(static p => p is not ToolResultPart);
        // Tool results can only be text here; their images follow as a user message.
        rest.AddRange(media);
        if (rest.Count == 0) return;

        w.WriteStartObject();
        w.WriteString("role", "user");
        if (rest.Count == 1 && rest[0] is TextPart { CacheControl: null } only)
        {
            w.WriteString("content", only.Text);
        }
        else
        {
            w.WriteStartArray("content");
            foreach (var p in rest) WriteContentPart(w, p);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteContentPart(Utf8JsonWriter w, Part p)
    {
        switch (p)
        {
            case TextPart t:
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", t.Text);
                w.WriteEndObject();
                return;
            case RefusalPart r:
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", r.Text);
                w.WriteEndObject();
                return;
            case ImagePart img when img.AsUrl() is { } url:
                w.WriteStartObject();
                w.WriteString("type", "image_url");
                w.WriteStartObject("image_url");
                w.WriteString("url", url);
                if (img.Detail is not null) w.WriteString("detail", img.Detail);
                w.WriteEndObject();
                w.WriteEndObject();
                return;
            case DocumentPart { Text: { } text } doc:
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", doc.FileName is null ? text : doc.FileName + "\n" + text);
                w.WriteEndObject();
                return;
            case DocumentPart doc when doc.Data is not null || doc.FileId is not null || doc.Url is not null:
                w.WriteStartObject();
                w.WriteString("type", "file");
                w.WriteStartObject("file");
                if (doc.FileName is not null || doc.Data is not null) w.WriteString("filename", doc.FileName ?? "document.pdf");
                if (doc.AsDataUrl() is { } data) w.WriteString("file_data", data);
                else if (doc.FileId is not null) w.WriteString("file_id", doc.FileId);
                else w.WriteString("file_data", doc.Url!);
                w.WriteEndObject();
                w.WriteEndObject();
                return;
            default:
                ConversionLog.Dropped($"{p.GetType().Name} in an OpenAI user message");
                return;
        }
    }

    private static void WriteAssistantMessage(Utf8JsonWriter w, Message m)
    {
        var text = Canonicalizer.JoinText(m.Parts, "\n\n");
        var calls = m.Parts.FindAll(static p => p is ToolCallPart);
        w.WriteStartObject();
        w.WriteString("role", "assistant");
        if (text.Length > 0 || calls.Count == 0) w.WriteString("content", text);
        else w.WriteNull("content");

        // Reasoning text goes back only to providers that produced it (reasoning_content) and only where such
        // providers require it: on turns with tool calls (DeepSeek thinking mode rejects the follow-up otherwise).
        if (calls.Count > 0)
        {
            var reasoning = Canonicalizer.JoinText(
                m.Parts.FindAll(static p => p is ThinkingPart { Origin: ApiProtocol.OpenAIChat, Redacted: false }).ConvertAll(static p => (Part)new TextPart(((ThinkingPart)p).Text)),
                "");
            if (reasoning.Length > 0) w.WriteString("reasoning_content", reasoning);

            w.WriteStartArray("tool_calls");
            foreach (ToolCallPart call in calls)
            {
                w.WriteStartObject();
                w.WriteString("id", call.Id);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", call.Name);
                w.WriteString("arguments", call.Arguments);
                w.WriteEndObject();
                WriteGoogleSignature(w, call.ThoughtSignature);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Gemini's OpenAI-compatible endpoint carries function-call signatures in `extra_content.google`.</summary>
    internal static void WriteGoogleSignature(Utf8JsonWriter w, string? signature)
    {
        if (signature is null) return;
        w.WriteStartObject("extra_content");
        w.WriteStartObject("google");
        w.WriteString("thought_signature", signature);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
