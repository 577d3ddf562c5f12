using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Anthropic;

/// <summary>Anthropic Messages request body ⇄ canonical request.</summary>
internal static class AnthropicRequestCodec
{
    private const string Ephemeral = "{\"type\":\"ephemeral\"}";

    public static ChatRequest Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "Anthropic request");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("Anthropic request must be a JSON object");
        if (!root.Prop("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("Anthropic request needs a `messages` array");

        var req = new ChatRequest
        {
            MaxTokens = root.Long("max_tokens"),
            Temperature = root.Double("temperature"),
            TopP = root.Double("top_p"),
            TopK = root.Long("top_k"),
        };

        if (root.Prop("system", out var system))
        {
            var sys = new Message(Role.System);
            if (system.ValueKind == JsonValueKind.String) sys.Parts.Add(new TextPart(system.GetString()!));
            else foreach (var block in system.EnumerateArrayOrEmpty()) DecodeBlock(block, sys.Parts);
            if (sys.Parts.Count > 0) req.Messages.Add(sys);
        }

        foreach (var m in messages.EnumerateArray())
        {
            var role = m.Str("role") switch
            {
                "user" => Role.User,
                "assistant" => Role.Assistant,
                _ => throw new ProtocolException("Anthropic message role must be user or assistant"),
            };
            var msg = new Message(role);
            if (!m.Prop("content", out var content)) throw new ProtocolException("Anthropic message needs `content`");
            if (content.ValueKind == JsonValueKind.String) msg.Parts.Add(new TextPart(content.GetString()!));
            else if (content.ValueKind == JsonValueKind.Array) foreach (var block in content.EnumerateArray()) DecodeBlock(block, msg.Parts);
            else throw new ProtocolException("Anthropic message `content` must be a string or an array");
            req.Messages.Add(msg);
        }

        foreach (var t in root.Arr("tools"))
        {
            var type = t.Str("type");
            var name = t.Str("name");
            if ((type is not null && type != "custom") || name is null)
            {
                ConversionLog.Dropped($"Anthropic server tool {type ?? "(unnamed)"}");
                continue;
            }
            req.Tools.Add(new ToolDefinition
            {
                Name = name,
                Description = t.Str("description"),
                Parameters = t.RawObject("input_schema"),
                CacheControl = t.RawObject("cache_control"),
                Strict = t.Bool("strict"),
            });
        }

        if (root.Obj("tool_choice", out var tc))
        {
            req.ToolChoice = tc.Str("type") switch
            {
                "any" => new ToolChoice(ToolChoiceKind.Required),
                "none" => new ToolChoice(ToolChoiceKind.None),
                "tool" => new ToolChoice(ToolChoiceKind.Tool, tc.Str("name")),
                _ => new ToolChoice(ToolChoiceKind.Auto),
            };
            if (tc.Bool("disable_parallel_tool_use") == true) req.ParallelToolCalls = false;
        }

        foreach (var s in root.Arr("stop_sequences")) if (s.AsString() is { } stop) req.StopSequences.Add(stop);

        string? effort = null;
        if (root.Obj("output_config", out var outputConfig))
        {
            effort = outputConfig.Str("effort");
            if (outputConfig.Obj("format", out var format)) req.ResponseFormat = DecodeFormat(format);
        }
        if (root.Obj("output_format", out var outputFormat)) req.ResponseFormat = DecodeFormat(outputFormat);

        if (root.Obj("thinking", out var thinking))
        {
            switch (thinking.Str("type"))
            {
                case "enabled":
                    req.Reasoning = new ReasoningConfig { BudgetTokens = thinking.Long("budget_tokens"), Effort = effort };
                    break;
                case "adaptive":
                    // Adaptive thinking defaults to high effort on Anthropic's side.
                    req.Reasoning = new ReasoningConfig { Adaptive = true, Effort = effort ?? "high" };
                    break;
                case "disabled":
                    req.Reasoning = new ReasoningConfig { Disabled = true };
                    break;
            }
        }
        else if (effort is not null)
        {
            req.Reasoning = new ReasoningConfig { Effort = effort };
        }

        if (root.Obj("metadata", out var metadata)) req.User = metadata.Str("user_id");
        Canonicalizer.AttachCallSignatures(req.Messages);
        return req;
    }

    private static ResponseFormat? DecodeFormat(JsonElement format) =>
        format.Str("type") == "json_schema"
            ? new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Schema = format.RawObject("schema"), Name = "response" }
            : null;

    internal static void DecodeBlock(JsonElement block, List<Part> parts)
    {
        Part part;
        switch (block.Str("type"))
        {
            case "text":
                part = new TextPart(block.Str("text") ?? "");
                break;
            case "image":
                part = DecodeImage(block);
                break;
            case "document":
                part = DecodeDocument(block);
                break;
            case "thinking":
            {
                Signatures.Untag(block.Str("signature"), ApiProtocol.Anthropic, out var origin, out var sig, out var redacted);
                part = new ThinkingPart { Text = block.Str("thinking") ?? "", Signature = sig, Origin = origin, Redacted = redacted };
                break;
            }
            case "redacted_thinking":
                part = new ThinkingPart { Signature = block.Str("data"), Origin = ApiProtocol.Anthropic, Redacted = true };
                break;
            case "tool_use":
            {
                var id = block.Str("id") ?? throw new ProtocolException("Anthropic tool_use needs an `id`");
                var name = block.Str("name") ?? throw new ProtocolException("Anthropic tool_use needs a `name`");
                part = new ToolCallPart { Id = id, Name = name, Arguments = block.Prop("input", out var input) ? input.GetRawText() : "{}" };
                break;
            }
            case "tool_result":
            {
                var result = new ToolResultPart
                {
                    CallId = block.Str("tool_use_id") ?? throw new ProtocolException("Anthropic tool_result needs `tool_use_id`"),
                    IsError = block.Bool("is_error") == true,
                };
                if (block.Prop("content", out var content))
                {
                    if (content.ValueKind == JsonValueKind.String) result.Content.Add(new TextPart(content.GetString()!));
                    else foreach (var inner in content.EnumerateArrayOrEmpty()) DecodeBlock(inner, result.Content);
                }
                part = result;
                break;
            }
            case "search_result":
            {
                // Search results only exist on Anthropic; keep their text so other targets still see it.
                var sb = new System.Text.StringBuilder();
                if (block.Str("title") is { } title) sb.Append(title).Append('\n');
                foreach (var c in block.Arr("content")) if (c.Str("text") is { } text) sb.Append(text).Append('\n');
                part = new TextPart(sb.ToString().TrimEnd('\n'));
                break;
            }
            default:
                ConversionLog.Dropped($"Anthropic content block {block.Str("type") ?? "(untyped)"}");
                return;
        }
        part.CacheControl = block.RawObject("cache_control");
        parts.Add(part);
    }

    private static Part DecodeImage(JsonElement block)
    {
        if (!block.Obj("source", out var source)) throw new ProtocolException("Anthropic image needs a `source`");
        return source.Str("type") switch
        {
            "base64" => new ImagePart { MediaType = source.Str("media_type"), Data = source.Str("data") },
            "url" => new ImagePart { Url = source.Str("url") },
            "file" => new ImagePart { FileId = source.Str("file_id") },
            _ => throw new ProtocolException("Anthropic image source type must be base64, url or file"),
        };
    }

    private static Part DecodeDocument(JsonElement block)
    {
        if (!block.Obj("source", out var source)) throw new ProtocolException("Anthropic document needs a `source`");
        var title = block.Str("title");
        switch (source.Str("type"))
        {
            case "base64":
                return new DocumentPart { MediaType = source.Str("media_type"), Data = source.Str("data"), FileName = title };
            case "text":
                return new DocumentPart { MediaType = source.Str("media_type") ?? "text/plain", Text = source.Str("data") ?? "", FileName = title };
            case "url":
                return new DocumentPart { Url = source.Str("url"), MediaType = "application/pdf", FileName = title };
            case "file":
                return new DocumentPart { FileId = source.Str("file_id"), FileName = title };
            case "content":
            {
                var sb = new System.Text.StringBuilder();
                foreach (var c in source.Arr("content")) if (c.Str("text") is { } text) sb.Append(text).Append('\n');
                return new DocumentPart { MediaType = "text/plain", Text = sb.ToString().TrimEnd('\n'), FileName = title };
            }
            default:
                throw new ProtocolException("Anthropic document source type is not supported");
        }
    }

    public static byte[] Encode(ChatRequest req, ConversionOptions options)
    {
        if (options.AddCacheBreakpoints && !req.HasCacheControl()) AddBreakpoints(req);
        var thinking = req.Reasoning is { Disabled: false } ? req.Reasoning : null;
        if (thinking is not null && AnswersToolTurnWithoutThinking(req.Messages))
        {
            // Anthropic refuses thinking when the tool turn being answered does not start with its own signed
            // thinking block (the client could not carry it: other protocols, or reasoning from another provider).
            ConversionLog.Dropped("thinking (the tool call being answered has no Anthropic thinking block)");
            thinking = null;
        }
        var maxTokens = req.MaxTokens ?? DefaultMaxTokens(options.UpstreamModel);
        long budget = 0;
        if (thinking is not null && !thinking.Adaptive)
        {
            budget = Math.Max(1024, thinking.ResolveBudget());
            if (req.MaxTokens is null) maxTokens = Math.Max(maxTokens, budget + 8192);
            if (maxTokens <= budget) budget = maxTokens / 2;
            if (budget < 1024)
            {
                ConversionLog.Dropped("thinking: max_tokens too small for a thinking budget");
                thinking = null;
            }
        }

        return JsonWrite.ToBytes(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", options.UpstreamModel);
            w.WriteNumber("max_tokens", maxTokens);

            var start = 0;
            var systemParts = new List<Part>();
            while (start < req.Messages.Count && req.Messages[start].Role == Role.System) systemParts.AddRange(req.Messages[start++].Parts);
            if (systemParts.Count > 0)
            {
                w.WriteStartArray("system");
                foreach (var p in systemParts)
                {
                    if (p is not TextPart t || t.Text.Length == 0) continue;
                    WriteTextBlock(w, t.Text, p.CacheControl);
                }
                w.WriteEndArray();
            }

            w.WriteStartArray("messages");
            WriteMessages(w, req.Messages, start);
            w.WriteEndArray();

            if (req.Tools.Count == 0 && HistoryToolNames(req) is { Count: > 0 } historyTools)
            {
                // Anthropic rejects tool_use/tool_result history without tool definitions, and some OpenAI clients drop
                // `tools` on the final turn: declare the used names with an open schema and forbid new calls.
                w.WriteStartArray("tools");
                foreach (var name in historyTools)
                {
                    w.WriteStartObject();
                    w.WriteString("name", name);
                    w.WriteStartObject("input_schema");
                    w.WriteString("type", "object");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartObject("tool_choice");
                w.WriteString("type", "none");
                w.WriteEndObject();
            }
            else if (req.Tools.Count > 0)
            {
                w.WriteStartArray("tools");
                foreach (var t in req.Tools)
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    if (t.Description is not null) w.WriteString("description", t.Description);
                    w.Raw("input_schema", t.Parameters ?? "{\"type\":\"object\",\"properties\":{}}");
                    if (t.CacheControl is not null) w.Raw("cache_control", t.CacheControl);
                    w.WriteEndObject();
                }
                w.WriteEndArray();

                var choice = req.ToolChoice;
                if (thinking is not null && choice is { Kind: ToolChoiceKind.Required or ToolChoiceKind.Tool })
                {
                    ConversionLog.Dropped("forced tool_choice (Anthropic thinking allows only auto or none)");
                    choice = new ToolChoice(ToolChoiceKind.Auto);
                }
                if (choice is not null || req.ParallelToolCalls == false)
                {
                    w.WriteStartObject("tool_choice");
                    switch (choice?.Kind ?? ToolChoiceKind.Auto)
                    {
                        case ToolChoiceKind.None: w.WriteString("type", "none"); break;
                        case ToolChoiceKind.Required: w.WriteString("type", "any"); break;
                        case ToolChoiceKind.Tool: w.WriteString("type", "tool"); w.WriteString("name", choice!.Name ?? ""); break;
                        default: w.WriteString("type", "auto"); break;
                    }
                    if (req.ParallelToolCalls == false && choice?.Kind != ToolChoiceKind.None) w.WriteBoolean("disable_parallel_tool_use", true);
                    w.WriteEndObject();
                }
            }

            if (req.StopSequences.Count > 0)
            {
                w.WriteStartArray("stop_sequences");
                foreach (var s in req.StopSequences) w.WriteStringValue(s);
                w.WriteEndArray();
            }

            if (thinking is not null)
            {
                // Anthropic rejects sampling changes while thinking: temperature must stay 1, top_p >= 0.95, no top_k.
                if (req.Temperature is { } temp && temp != 1) ConversionLog.Dropped("temperature (Anthropic thinking needs 1)");
                else if (req.Temperature is { } one) w.WriteNumber("temperature", one);
                if (req.TopP is { } topP && topP >= 0.95) w.WriteNumber("top_p", topP);
                else if (req.TopP is not null) ConversionLog.Dropped("top_p below 0.95 (Anthropic thinking)");
            }
            else
            {
                if (req.Temperature is { } temp) w.WriteNumber("temperature", Math.Clamp(temp, 0, 1));
                if (req.TopP is { } topP) w.WriteNumber("top_p", topP);
                if (req.TopK is { } topK) w.WriteNumber("top_k", topK);
            }

            if (thinking is not null)
            {
                w.WriteStartObject("thinking");
                if (thinking.Adaptive)
                {
                    w.WriteString("type", "adaptive");
                }
                else
                {
                    w.WriteString("type", "enabled");
                    w.WriteNumber("budget_tokens", budget);
                }
                w.WriteEndObject();
                if (thinking.Adaptive && thinking.Effort is { } effort)
                {
                    w.WriteStartObject("output_config");
                    w.WriteString("effort", effort switch { "minimal" => "low", "xhigh" => "max", _ => effort });
                    w.WriteEndObject();
                }
            }
            else if (req.Reasoning is { Disabled: true })
            {
                w.WriteStartObject("thinking");
                w.WriteString("type", "disabled");
                w.WriteEndObject();
            }

            if (req.ResponseFormat is not null) ConversionLog.Dropped("response_format (no Anthropic equivalent in this version)");

            if (req.User is not null)
            {
                w.WriteStartObject("metadata");
                w.WriteString("user_id", req.User);
                w.WriteEndObject();
            }
            if (options.Stream) w.WriteBoolean("stream", true);
            w.WriteEndObject();
        }, 4096);
    }

    /// <summary>
    /// True when the request continues a tool loop (its last assistant turn calls tools) and that turn, as it will be
    /// written, does not open with a thinking block Anthropic can verify.
    /// </summary>
    private static bool AnswersToolTurnWithoutThinking(List<Message> messages)
    {
        var last = messages.FindLastIndex(static m => m.Role == Role.Assistant);
        if (last < 0 || last == messages.Count - 1) return false;
        // Adjacent assistant messages are written as one turn.
        var first = last;
        while (first > 0 && messages[first - 1].Role == Role.Assistant) first--;
        var parts = messages.Skip(first).Take(last - first + 1).SelectMany(static m => m.Parts).Where(KeepQuietly).ToList();
        if (!parts.Exists(static p => p is ToolCallPart)) return false;
        return parts[0] is not ThinkingPart;
    }

    private static bool KeepQuietly(Part p) => p switch
    {
        TextPart t => t.Text.Length > 0,
        ThinkingPart th => th.Origin == ApiProtocol.Anthropic && !string.IsNullOrEmpty(th.Signature),
        _ => true,
    };

    private static List<string> HistoryToolNames(ChatRequest req)
    {
        var names = new List<string>();
        foreach (var m in req.Messages)
            foreach (var p in m.Parts)
                if (p is ToolCallPart call && !names.Contains(call.Name)) names.Add(call.Name);
        return names;
    }

    /// <summary>Anthropic's max_tokens is required; old Claude 3 models cap output at 4096.</summary>
    private static long DefaultMaxTokens(string model) =>
        model.StartsWith("claude-3-", StringComparison.Ordinal) && !model.StartsWith("claude-3-5", StringComparison.Ordinal)
        && !model.StartsWith("claude-3-7", StringComparison.Ordinal) ? 4096 : 8192;

    private static void WriteMessages(Utf8JsonWriter w, List<Message> messages, int start)
    {
        // Anthropic has no mid-conversation system role: later system messages become user text in place
        // (never hoisted, so the cached prefix stays put). Adjacent same-role messages merge into one turn.
        var i = start;
        while (i < messages.Count)
        {
            var role = messages[i].Role == Role.Assistant ? Role.Assistant : Role.User;
            var blocks = new List<Part>();
            while (i < messages.Count && (messages[i].Role == Role.Assistant ? Role.Assistant : Role.User) == role)
            {
                foreach (var p in messages[i].Parts) if (Keep(p)) blocks.Add(p);
                i++;
            }
            if (blocks.Count == 0) continue;
            // tool_result blocks must open the user turn that follows tool_use.
            if (role == Role.User && blocks.Exists(static b => b is ToolResultPart))
                blocks = [.. blocks.Where(static b => b is ToolResultPart), .. blocks.Where(static b => b is not ToolResultPart)];

            w.WriteStartObject();
            w.WriteString("role", role == Role.Assistant ? "assistant" : "user");
            w.WriteStartArray("content");
            foreach (var p in blocks) WriteBlock(w, p);
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static bool Keep(Part p)
    {
        switch (p)
        {
            case TextPart t when t.Text.Length == 0:
                return false;
            case ThinkingPart th when th.Origin != ApiProtocol.Anthropic || string.IsNullOrEmpty(th.Signature):
                ConversionLog.Dropped("thinking block without an Anthropic signature");
                return false;
            case DocumentPart d when d.Data is not null && d.MediaType is not null && d.MediaType != "application/pdf" && !d.MediaType.StartsWith("text/", StringComparison.Ordinal):
                ConversionLog.Dropped($"document of type {d.MediaType}");
                return false;
            default:
                return true;
        }
    }

    private static void WriteTextBlock(Utf8JsonWriter w, string text, string? cacheControl)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        if (cacheControl is not null) w.Raw("cache_control", cacheControl);
        w.WriteEndObject();
    }

    private static void WriteBlock(Utf8JsonWriter w, Part p)
    {
        switch (p)
        {
            case TextPart t:
                WriteTextBlock(w, t.Text, p.CacheControl);
                return;
            case RefusalPart r:
                WriteTextBlock(w, r.Text, p.CacheControl);
                return;
            case ImagePart img:
                w.WriteStartObject();
                w.WriteString("type", "image");
                w.WriteStartObject("source");
                if (img.Data is not null)
                {
                    w.WriteString("type", "base64");
                    w.WriteString("media_type", img.MediaType ?? "image/png");
                    w.WriteString("data", img.Data);
                }
                else if (img.Url is not null && DataUrl.TryParse(img.Url, out var mt, out var data))
                {
                    w.WriteString("type", "base64");
                    w.WriteString("media_type", mt);
                    w.WriteString("data", data);
                }
                else if (img.Url is not null)
                {
                    w.WriteString("type", "url");
                    w.WriteString("url", img.Url);
                }
                else
                {
                    w.WriteString("type", "file");
                    w.WriteString("file_id", img.FileId ?? "");
                }
                w.WriteEndObject();
                if (p.CacheControl is not null) w.Raw("cache_control", p.CacheControl);
                w.WriteEndObject();
                return;
            case DocumentPart doc:
                w.WriteStartObject();
                w.WriteString("type", "document");
                w.WriteStartObject("source");
                if (doc.Text is not null)
                {
                    w.WriteString("type", "text");
                    w.WriteString("media_type", "text/plain");
                    w.WriteString("data", doc.Text);
                }
                else if (doc.Data is not null)
                {
                    w.WriteString("type", "base64");
                    w.WriteString("media_type", doc.MediaType ?? "application/pdf");
                    w.WriteString("data", doc.Data);
                }
                else if (doc.Url is not null && DataUrl.TryParse(doc.Url, out var mt, out var data))
                {
                    w.WriteString("type", "base64");
                    w.WriteString("media_type", mt);
                    w.WriteString("data", data);
                }
                else if (doc.Url is not null)
                {
                    w.WriteString("type", "url");
                    w.WriteString("url", doc.Url);
                }
                else
                {
                    w.WriteString("type", "file");
                    w.WriteString("file_id", doc.FileId ?? "");
                }
                w.WriteEndObject();
                if (doc.FileName is not null) w.WriteString("title", doc.FileName);
                if (p.CacheControl is not null) w.Raw("cache_control", p.CacheControl);
                w.WriteEndObject();
                return;
            case ThinkingPart th:
                w.WriteStartObject();
                if (th.Redacted)
                {
                    w.WriteString("type", "redacted_thinking");
                    w.WriteString("data", th.Signature ?? "");
                }
                else
                {
                    w.WriteString("type", "thinking");
                    w.WriteString("thinking", th.Text);
                    w.WriteString("signature", th.Signature ?? "");
                }
                w.WriteEndObject();
                return;
            case ToolCallPart call:
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", ToolId(call.Id));
                w.WriteString("name", call.Name);
                w.ArgumentsObject("input", call.Arguments);
                if (p.CacheControl is not null) w.Raw("cache_control", p.CacheControl);
                w.WriteEndObject();
                return;
            case ToolResultPart result:
                w.WriteStartObject();
                w.WriteString("type", "tool_result");
                w.WriteString("tool_use_id", ToolId(result.CallId));
                var inner = result.Content.FindAll(static c => c is TextPart { Text.Length: > 0 } or ImagePart or DocumentPart);
                if (inner.Count == 1 && inner[0] is TextPart { CacheControl: null } only)
                {
                    w.WriteString("content", only.Text);
                }
                else if (inner.Count > 0)
                {
                    w.WriteStartArray("content");
                    foreach (var c in inner) WriteBlock(w, c);
                    w.WriteEndArray();
                }
                if (result.IsError) w.WriteBoolean("is_error", true);
                if (p.CacheControl is not null) w.Raw("cache_control", p.CacheControl);
                w.WriteEndObject();
                return;
        }
    }

    /// <summary>Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; other providers' ids are mapped deterministically.</summary>
    internal static string ToolId(string id)
    {
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-') return Sanitize(id);
        }
        return id.Length == 0 ? "toolu_empty" : id;

        static string Sanitize(string id)
        {
            var chars = id.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
                if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_' && chars[i] != '-') chars[i] = '_';
            return new string(chars);
        }
    }

    /// <summary>
    /// Adds ephemeral breakpoints where a client that sent none would want them: the system prompt's last block,
    /// the last tool, and the last user message's last block.
    /// </summary>
    private static void AddBreakpoints(ChatRequest req)
    {
        var lastSystem = -1;
        for (var i = 0; i < req.Messages.Count && req.Messages[i].Role == Role.System; i++) lastSystem = i;
        if (lastSystem >= 0)
        {
            var parts = req.Messages[lastSystem].Parts;
            for (var j = parts.Count - 1; j >= 0; j--)
                if (parts[j] is TextPart { Text.Length: > 0 }) { parts[j].CacheControl = Ephemeral; break; }
        }
        if (req.Tools.Count > 0) req.Tools[^1].CacheControl = Ephemeral;
        for (var i = req.Messages.Count - 1; i > lastSystem; i--)
        {
            if (req.Messages[i].Role != Role.User) continue;
            var parts = req.Messages[i].Parts;
            for (var j = parts.Count - 1; j >= 0; j--)
            {
                if (parts[j] is TextPart { Text.Length: > 0 } or ImagePart or DocumentPart or ToolResultPart)
                {
                    parts[j].CacheControl = Ephemeral;
                    return;
                }
            }
        }
    }
}
