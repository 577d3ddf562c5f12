using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Gemini;

/// <summary>Gemini generateContent request body ⇄ canonical request. The model and streaming live in the URL.</summary>
internal static class GeminiRequestCodec
{
    /// <summary>Gemini 3 requires a signature on the first function call of each step; histories from other
    /// providers have none, and this documented value tells the API to skip the check.</summary>
    internal const string SkipSignature = "skip_thought_signature_validator";

    public static ChatRequest Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "Gemini request");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("Gemini request must be a JSON object");
        if (!root.G("contents", out var contents) || contents.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("Gemini request needs a `contents` array");

        var req = new ChatRequest();
        if (root.G("systemInstruction", out var system))
        {
            var sys = new Message(Role.System);
            if (system.ValueKind == JsonValueKind.String) sys.Parts.Add(new TextPart(system.GetString()!));
            else foreach (var p in system.GArr("parts")) if (p.GStr("text") is { } text) sys.Parts.Add(new TextPart(text));
            if (sys.Parts.Count > 0) req.Messages.Add(sys);
        }

        // Gemini calls may have no ids: ids are minted from their position, so the same history always gets the
        // same ids (stable prefix), and responses take the oldest unanswered call of the same name.
        var pending = new List<(string Id, string Name)>();
        var counter = 0;
        foreach (var c in contents.EnumerateArray())
        {
            var msg = new Message(c.GStr("role") == "model" ? Role.Assistant : Role.User);
            foreach (var p in c.GArr("parts")) DecodePart(p, msg.Parts, pending, ref counter);
            req.Messages.Add(msg);
        }

        foreach (var tool in root.GArr("tools"))
        {
            var any = false;
            foreach (var f in tool.GArr("functionDeclarations"))
            {
                any = true;
                if (f.GStr("name") is not { } name) continue;
                string? parameters = null;
                if (f.GObj("parametersJsonSchema", out var js)) parameters = js.GetRawText();
                else if (f.GObj("parameters", out var ps)) parameters = GeminiJson.NormalizeOpenApiSchema(ps.GetRawText());
                req.Tools.Add(new ToolDefinition { Name = name, Description = f.GStr("description"), Parameters = parameters });
            }
            if (!any) ConversionLog.Dropped("Gemini built-in tool");
        }

        if (root.GObj("toolConfig", out var toolConfig) && toolConfig.GObj("functionCallingConfig", out var fcc))
        {
            string? only = null;
            var allowed = 0;
            foreach (var n in fcc.GArr("allowedFunctionNames")) { allowed++; only = n.AsString(); }
            req.ToolChoice = fcc.GStr("mode") switch
            {
                "NONE" => new ToolChoice(ToolChoiceKind.None),
                "ANY" when allowed == 1 && only is not null => new ToolChoice(ToolChoiceKind.Tool, only),
                "ANY" => new ToolChoice(ToolChoiceKind.Required),
                _ => new ToolChoice(ToolChoiceKind.Auto),
            };
        }

        if (root.GObj("generationConfig", out var gc))
        {
            req.MaxTokens = gc.GLong("maxOutputTokens");
            req.Temperature = gc.G("temperature", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
            req.TopP = gc.G("topP", out var tp) && tp.ValueKind == JsonValueKind.Number ? tp.GetDouble() : null;
            req.TopK = gc.G("topK", out var tk) && tk.ValueKind == JsonValueKind.Number && tk.TryGetDouble(out var k) ? (long)k : null;
            req.Seed = gc.GLong("seed");
            req.PresencePenalty = gc.G("presencePenalty", out var pp) && pp.ValueKind == JsonValueKind.Number ? pp.GetDouble() : null;
            req.FrequencyPenalty = gc.G("frequencyPenalty", out var fp) && fp.ValueKind == JsonValueKind.Number ? fp.GetDouble() : null;
            foreach (var s in gc.GArr("stopSequences")) if (s.AsString() is { } stop) req.StopSequences.Add(stop);
            if (gc.GStr("responseMimeType") == "application/json")
            {
                string? schema = null;
                if (gc.GObj("responseJsonSchema", out var rjs)) schema = rjs.GetRawText();
                else if (gc.GObj("responseSchema", out var rs)) schema = GeminiJson.NormalizeOpenApiSchema(rs.GetRawText());
                req.ResponseFormat = schema is null
                    ? new ResponseFormat { Kind = ResponseFormatKind.JsonObject }
                    : new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, Name = "response", Schema = schema };
            }
            if (gc.GObj("thinkingConfig", out var tc))
            {
                var budget = tc.GLong("thinkingBudget");
                var level = tc.GStr("thinkingLevel")?.ToLowerInvariant();
                if (budget == 0) req.Reasoning = new ReasoningConfig { Disabled = true };
                else if (budget is not null || level is not null || tc.G("includeThoughts", out _))
                    req.Reasoning = new ReasoningConfig
                    {
                        BudgetTokens = budget is > 0 ? budget : null,
                        Effort = level,
                        IncludeThoughts = tc.G("includeThoughts", out var it) ? it.ValueKind == JsonValueKind.True : null,
                    };
            }
        }
        Canonicalizer.AttachCallSignatures(req.Messages);
        return req;
    }

    private static void DecodePart(JsonElement p, List<Part> parts, List<(string Id, string Name)> pending, ref int counter)
    {
        var rawSignature = p.GStr("thoughtSignature");
        if (p.G("text", out var textEl) && textEl.ValueKind == JsonValueKind.String)
        {
            var text = textEl.GetString()!;
            if (p.Prop("thought", out var thought) && thought.ValueKind == JsonValueKind.True)
            {
                Signatures.Untag(rawSignature, ApiProtocol.Gemini, out var origin, out var sig, out var redacted);
                // A thought run is streamed as several text parts and closed by the part that carries the signature
                // (often empty): it is one block, and the signature covers the whole run's text.
                if (parts.Count > 0 && parts[^1] is ThinkingPart { Signature: null, Redacted: false, Origin: ApiProtocol.Gemini } run)
                {
                    run.Text += text;
                    if (rawSignature is not null)
                    {
                        run.Signature = sig;
                        run.Origin = origin;
                        run.Redacted = redacted;
                    }
                    return;
                }
                parts.Add(new ThinkingPart { Text = text, Signature = sig, Origin = origin, Redacted = redacted });
                return;
            }
            if (rawSignature is not null) parts.Add(new ThinkingPart { Signature = rawSignature, Origin = ApiProtocol.Gemini });
            parts.Add(new TextPart(text));
            return;
        }
        if (p.GObj("inlineData", out var inline))
        {
            var mime = inline.GStr("mimeType") ?? "application/octet-stream";
            var data = inline.GStr("data") ?? "";
            parts.Add(mime.StartsWith("image/", StringComparison.Ordinal)
                ? new ImagePart { MediaType = mime, Data = data }
                : new DocumentPart { MediaType = mime, Data = data });
            return;
        }
        if (p.GObj("fileData", out var file))
        {
            var mime = file.GStr("mimeType") ?? "";
            var uri = file.GStr("fileUri");
            parts.Add(mime.StartsWith("image/", StringComparison.Ordinal)
                ? new ImagePart { Url = uri, MediaType = mime }
                : new DocumentPart { Url = uri, MediaType = mime });
            return;
        }
        if (p.GObj("functionCall", out var call))
        {
            var name = call.GStr("name") ?? throw new ProtocolException("Gemini functionCall needs a `name`");
            var id = call.GStr("id") ?? $"call_{counter}";
            counter++;
            pending.Add((id, name));
            string? sig = null;
            if (rawSignature is not null)
            {
                Signatures.Untag(rawSignature, ApiProtocol.Gemini, out var origin, out var native, out _);
                if (origin == ApiProtocol.Gemini) sig = native;
            }
            parts.Add(new ToolCallPart
            {
                Id = id,
                Name = name,
                Arguments = call.GObj("args", out var args) ? args.GetRawText() : "{}",
                ThoughtSignature = sig,
            });
            return;
        }
        if (p.GObj("functionResponse", out var response))
        {
            var name = response.GStr("name") ?? "";
            var id = response.GStr("id");
            var match = pending.FindIndex(c => id is not null ? c.Id == id : c.Name == name);
            if (match >= 0)
            {
                id = pending[match].Id;
                pending.RemoveAt(match);
            }
            id ??= $"call_{counter++}";
            var result = new ToolResultPart { CallId = id, Name = name };
            if (response.GObj("response", out var body))
            {
                // Google's convention: {"output": ...} on success, {"error": ...} on failure.
                if (body.Prop("error", out var error) && !body.Prop("output", out _))
                {
                    result.IsError = true;
                    result.Content.Add(new TextPart(error.ValueKind == JsonValueKind.String ? error.GetString()! : error.GetRawText()));
                }
                else if (body.Prop("output", out var output) && output.ValueKind == JsonValueKind.String && CountProps(body) == 1)
                {
                    result.Content.Add(new TextPart(output.GetString()!));
                }
                else
                {
                    result.Content.Add(new TextPart(body.GetRawText()));
                }
            }
            parts.Add(result);
            return;
        }
        if (rawSignature is not null)
        {
            parts.Add(new ThinkingPart { Signature = rawSignature, Origin = ApiProtocol.Gemini });
            return;
        }
        ConversionLog.Dropped("Gemini part kind");
    }

    private static int CountProps(JsonElement o)
    {
        var n = 0;
        foreach (var _ in o.EnumerateObject()) n++;
        return n;
    }

    public static byte[] Encode(ChatRequest req, ConversionOptions options) => JsonWrite.ToBytes(w =>
    {
        w.WriteStartObject();
        var start = 0;
        var system = new List<Part>();
        while (start < req.Messages.Count && req.Messages[start].Role == Role.System) system.AddRange(req.Messages[start++].Parts);

        w.WriteStartArray("contents");
        var names = Canonicalizer.ToolNamesById(req.Messages);
        var i = start;
        while (i < req.Messages.Count)
        {
            // Later system messages become user text in place; adjacent same-role turns merge.
            var role = req.Messages[i].Role == Role.Assistant ? Role.Assistant : Role.User;
            var parts = new List<Part>();
            while (i < req.Messages.Count && (req.Messages[i].Role == Role.Assistant ? Role.Assistant : Role.User) == role)
                parts.AddRange(req.Messages[i++].Parts);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            int written;
            using (var pw = new Utf8JsonWriter(buffer, JsonWrite.Options))
            {
                pw.WriteStartArray();
                written = role == Role.Assistant ? WriteModelParts(pw, parts) : WriteUserParts(pw, parts, names);
                pw.WriteEndArray();
            }
            if (written == 0) continue;
            w.WriteStartObject();
            w.WriteString("role", role == Role.Assistant ? "model" : "user");
            w.WritePropertyName("parts");
            w.WriteRawValue(buffer.WrittenSpan, skipInputValidation: true);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        if (system.Count > 0)
        {
            w.WriteStartObject("systemInstruction");
            w.WriteStartArray("parts");
            foreach (var p in system)
            {
                if (p is not TextPart { Text.Length: > 0 } t) continue;
                w.WriteStartObject();
                w.WriteString("text", t.Text);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        if (req.Tools.Count > 0)
        {
            w.WriteStartArray("tools");
            w.WriteStartObject();
            w.WriteStartArray("functionDeclarations");
            foreach (var t in req.Tools)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                if (t.Description is not null) w.WriteString("description", t.Description);
                // Full JSON Schema, passed verbatim (the OpenAPI-subset `parameters` would need rewriting).
                if (t.Parameters is not null) w.Raw("parametersJsonSchema", t.Parameters);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();

            if (req.ToolChoice is { } choice)
            {
                w.WriteStartObject("toolConfig");
                w.WriteStartObject("functionCallingConfig");
                w.WriteString("mode", choice.Kind switch
                {
                    ToolChoiceKind.None => "NONE",
                    ToolChoiceKind.Required or ToolChoiceKind.Tool => "ANY",
                    _ => "AUTO",
                });
                if (choice.Kind == ToolChoiceKind.Tool && choice.Name is not null)
                {
                    w.WriteStartArray("allowedFunctionNames");
                    w.WriteStringValue(choice.Name);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
        if (req.ParallelToolCalls is not null) ConversionLog.Dropped("parallel_tool_calls (Gemini has no switch)");

        w.WriteStartObject("generationConfig");
        if (req.MaxTokens is { } max) w.WriteNumber("maxOutputTokens", max);
        if (req.Temperature is { } temp) w.WriteNumber("temperature", temp);
        if (req.TopP is { } topP) w.WriteNumber("topP", topP);
        if (req.TopK is { } topK) w.WriteNumber("topK", topK);
        if (req.Seed is { } seed) w.WriteNumber("seed", seed);
        if (req.PresencePenalty is { } pp) w.WriteNumber("presencePenalty", pp);
        if (req.FrequencyPenalty is { } fp) w.WriteNumber("frequencyPenalty", fp);
        if (req.StopSequences.Count > 0)
        {
            w.WriteStartArray("stopSequences");
            foreach (var s in req.StopSequences) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (req.ResponseFormat is { Kind: not ResponseFormatKind.Text } format)
        {
            w.WriteString("responseMimeType", "application/json");
            if (format.Schema is not null) w.Raw("responseJsonSchema", format.Schema);
        }
        if (req.Reasoning is { } reasoning)
        {
            w.WriteStartObject("thinkingConfig");
            if (reasoning.Disabled)
            {
                w.WriteNumber("thinkingBudget", 0);
            }
            else
            {
                // -1 is Gemini's dynamic budget: the closest thing to adaptive thinking without an effort.
                w.WriteNumber("thinkingBudget", reasoning.Adaptive && reasoning.Effort is null ? -1 : reasoning.ResolveBudget());
                w.WriteBoolean("includeThoughts", reasoning.IncludeThoughts ?? true);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }, 4096);

    private static void WriteText(Utf8JsonWriter w, string text, string? signature = null, bool thought = false)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        if (thought) w.WriteBoolean("thought", true);
        if (signature is not null) w.WriteString("thoughtSignature", signature);
        w.WriteEndObject();
    }

    private static int WriteUserParts(Utf8JsonWriter w, List<Part> parts, Dictionary<string, string> names)
    {
        var n = 0;
        foreach (var p in parts)
        {
            switch (p)
            {
                case ToolResultPart result:
                    w.WriteStartObject();
                    w.WriteStartObject("functionResponse");
                    w.WriteString("name", result.Name ?? (names.TryGetValue(result.CallId, out var name) ? name : result.CallId));
                    w.WriteStartObject("response");
                    w.WriteString(result.IsError ? "error" : "output", result.JoinedText());
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    n++;
                    foreach (var c in result.Content) if (c is ImagePart or DocumentPart && WriteMedia(w, c)) n++;
                    break;
                case TextPart { Text.Length: > 0 } t:
                    WriteText(w, t.Text);
                    n++;
                    break;
                case RefusalPart r:
                    WriteText(w, r.Text);
                    n++;
                    break;
                case DocumentPart { Text: { } text } doc:
                    WriteText(w, doc.FileName is null ? text : doc.FileName + "\n" + text);
                    n++;
                    break;
                case ImagePart or DocumentPart:
                    if (WriteMedia(w, p)) n++;
                    break;
                case ThinkingPart or ToolCallPart:
                    ConversionLog.Dropped($"{p.GetType().Name} in a user turn");
                    break;
            }
        }
        return n;
    }

    private static bool WriteMedia(Utf8JsonWriter w, Part p)
    {
        string? mime, data, url;
        switch (p)
        {
            case ImagePart img:
                (mime, data, url) = (img.MediaType, img.Data, img.Url);
                mime ??= "image/jpeg";
                break;
            case DocumentPart doc:
                (mime, data, url) = (doc.MediaType, doc.Data, doc.Url);
                mime ??= "application/pdf";
                break;
            default:
                return false;
        }
        if (data is null && DataUrl.TryParse(url, out var mt, out var d)) (mime, data) = (mt, d);
        if (data is null && url is null)
        {
            ConversionLog.Dropped("file reference by id (Gemini needs data or a URI)");
            return false;
        }
        w.WriteStartObject();
        if (data is not null)
        {
            w.WriteStartObject("inlineData");
            w.WriteString("mimeType", mime);
            w.WriteString("data", data);
        }
        else
        {
            w.WriteStartObject("fileData");
            w.WriteString("mimeType", mime);
            w.WriteString("fileUri", url);
        }
        w.WriteEndObject();
        w.WriteEndObject();
        return true;
    }

    private static int WriteModelParts(Utf8JsonWriter w, List<Part> parts)
    {
        var n = 0;
        var firstCall = true;
        for (var i = 0; i < parts.Count; i++)
        {
            var p = parts[i];
            switch (p)
            {
                case ThinkingPart { Origin: ApiProtocol.Gemini, Redacted: false } th when th.Signature is not null || th.Text.Length > 0:
                    if (th.Text.Length == 0 && i + 1 < parts.Count && parts[i + 1] is TextPart { Text.Length: > 0 } next)
                    {
                        // A signature that came on a text part goes back on that part.
                        WriteText(w, next.Text, th.Signature);
                        i++;
                    }
                    else if (th.Text.Length == 0 && i + 1 < parts.Count && parts[i + 1] is ToolCallPart { ThoughtSignature: null } call)
                    {
                        call.ThoughtSignature = th.Signature;
                        continue;
                    }
                    else if (th.Signature is null)
                    {
                        ConversionLog.Dropped("unsigned Gemini thought");
                        continue;
                    }
                    else
                    {
                        WriteText(w, th.Text, th.Signature, thought: true);
                    }
                    n++;
                    break;
                case ThinkingPart:
                    ConversionLog.Dropped("thinking without a Gemini signature");
                    break;
                case TextPart { Text.Length: > 0 } t:
                    WriteText(w, t.Text);
                    n++;
                    break;
                case RefusalPart r:
                    WriteText(w, r.Text);
                    n++;
                    break;
                case ToolCallPart call:
                    w.WriteStartObject();
                    w.WriteStartObject("functionCall");
                    w.WriteString("name", call.Name);
                    w.ArgumentsObject("args", call.Arguments);
                    w.WriteEndObject();
                    var sig = call.ThoughtSignature ?? (firstCall ? SkipSignature : null);
                    if (sig is not null) w.WriteString("thoughtSignature", sig);
                    w.WriteEndObject();
                    firstCall = false;
                    n++;
                    break;
                case ImagePart or DocumentPart:
                    if (WriteMedia(w, p)) n++;
                    break;
            }
        }
        return n;
    }
}
