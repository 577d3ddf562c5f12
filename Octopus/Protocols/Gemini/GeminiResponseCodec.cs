using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Gemini;

/// <summary>Gemini generateContent response ⇄ canonical response.</summary>
internal static class GeminiResponseCodec
{
    public static ChatResponse Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "Gemini response");
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0) root = root[0];
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("Gemini response must be a JSON object");
        if (root.Obj("error", out var error)) throw new ProtocolException("Upstream returned an error: " + (error.Str("message") ?? "unknown"));
        var resp = new ChatResponse { Id = root.GStr("responseId"), Model = root.GStr("modelVersion") };
        string? finish = null;
        foreach (var candidate in root.GArr("candidates"))
        {
            if (candidate.Long("index") is > 0) continue;
            finish = candidate.GStr("finishReason");
            if (candidate.G("content", out var content))
                foreach (var p in content.GArr("parts")) DecodePart(p, resp.Parts);
            break;
        }
        if (finish is null && root.GObj("promptFeedback", out var feedback) && feedback.GStr("blockReason") is not null) finish = "SAFETY";
        resp.StopReason = StopReasons.FromGemini(finish, resp.HasToolCalls());
        if (root.GObj("usageMetadata", out var usage)) resp.Usage = GeminiJson.ReadUsage(usage);
        return resp;
    }

    private static void DecodePart(JsonElement p, List<Part> parts)
    {
        var sig = p.GStr("thoughtSignature");
        var thought = p.Prop("thought", out var t) && t.ValueKind == JsonValueKind.True;
        if (p.GStr("text") is { } text)
        {
            if (thought)
            {
                // Consecutive thought parts are one run of thinking; the signature usually ends it.
                if (parts.Count > 0 && parts[^1] is ThinkingPart { Signature: null, Redacted: false } run)
                {
                    run.Text += text;
                    run.Signature = sig;
                }
                else
                {
                    parts.Add(new ThinkingPart { Text = text, Signature = sig, Origin = ApiProtocol.Gemini });
                }
                return;
            }
            if (sig is not null) parts.Add(new ThinkingPart { Signature = sig, Origin = ApiProtocol.Gemini });
            if (text.Length > 0) parts.Add(new TextPart(text));
            return;
        }
        if (p.GObj("functionCall", out var call))
        {
            parts.Add(new ToolCallPart
            {
                Id = call.GStr("id") ?? Ids.New("call_"),
                Name = call.GStr("name") ?? "",
                Arguments = call.GObj("args", out var args) ? args.GetRawText() : "{}",
                ThoughtSignature = sig,
            });
            return;
        }
        if (sig is not null)
        {
            parts.Add(new ThinkingPart { Signature = sig, Origin = ApiProtocol.Gemini });
            return;
        }
        ConversionLog.Dropped("Gemini response part kind");
    }

    public static byte[] Encode(ChatResponse resp, ApiProtocol upstream, string clientModel) => JsonWrite.ToBytes(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("candidates");
        w.WriteStartObject();
        w.WriteStartObject("content");
        w.WriteString("role", "model");
        w.WriteStartArray("parts");
        foreach (var p in resp.Parts) WritePart(w, p, upstream);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("finishReason", StopReasons.ToGemini(resp.StopReason));
        w.WriteNumber("index", 0);
        w.WriteEndObject();
        w.WriteEndArray();
        GeminiJson.WriteUsage(w, resp.Usage);
        w.WriteString("modelVersion", clientModel);
        w.WriteString("responseId", Ids.New(""));
        w.WriteEndObject();
    });

    internal static void WritePart(Utf8JsonWriter w, Part p, ApiProtocol upstream)
    {
        switch (p)
        {
            case TextPart t:
                w.WriteStartObject();
                w.WriteString("text", t.Text);
                w.WriteEndObject();
                break;
            case RefusalPart r:
                w.WriteStartObject();
                w.WriteString("text", r.Text);
                w.WriteEndObject();
                break;
            case ThinkingPart th:
                w.WriteStartObject();
                w.WriteString("text", th.Text);
                w.WriteBoolean("thought", true);
                if (Signatures.ForClient(ApiProtocol.Gemini, th.Origin ?? upstream, th.Signature, th.Redacted) is { } sig) w.WriteString("thoughtSignature", sig);
                w.WriteEndObject();
                break;
            case ToolCallPart call:
                WriteFunctionCall(w, call.Id, call.Name, call.Arguments, call.ThoughtSignature);
                break;
        }
    }

    internal static void WriteFunctionCall(Utf8JsonWriter w, string id, string name, string arguments, string? signature)
    {
        w.WriteStartObject();
        w.WriteStartObject("functionCall");
        // The id lets the client answer with a matching functionResponse.id, so the next turn finds the call.
        w.WriteString("id", id);
        w.WriteString("name", name);
        w.ArgumentsObject("args", arguments);
        w.WriteEndObject();
        if (signature is not null) w.WriteString("thoughtSignature", signature);
        w.WriteEndObject();
    }
}
