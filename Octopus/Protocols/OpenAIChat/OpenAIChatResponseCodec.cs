using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.OpenAIChat;

/// <summary>OpenAI Chat Completions non-streamed response ⇄ canonical response.</summary>
internal static class OpenAIChatResponseCodec
{
    public static ChatResponse Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "OpenAI Chat response");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("OpenAI Chat response must be a JSON object");
        if (root.Obj("error", out var error)) throw new ProtocolException("Upstream returned an error: " + (error.Str("message") ?? "unknown"));
        var resp = new ChatResponse { Id = root.Str("id"), Model = root.Str("model") };
        JsonElement choice = default;
        foreach (var c in root.Arr("choices")) { choice = c; break; }
        if (choice.ValueKind != JsonValueKind.Object) throw new ProtocolException("OpenAI Chat response has no choices");
        resp.StopReason = StopReasons.FromOpenAI(choice.Str("finish_reason"));
        if (choice.Obj("message", out var message))
        {
            var reasoning = message.Str("reasoning_content") ?? message.Str("reasoning");
            if (!string.IsNullOrEmpty(reasoning)) resp.Parts.Add(new ThinkingPart { Text = reasoning, Origin = ApiProtocol.OpenAIChat });
            if (message.Prop("content", out var content))
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    if (content.GetString() is { Length: > 0 } text) resp.Parts.Add(new TextPart(text));
                }
                else
                {
                    foreach (var p in content.EnumerateArrayOrEmpty())
                        if (p.Str("text") is { Length: > 0 } text) resp.Parts.Add(new TextPart(text));
                }
            }
            if (message.Str("refusal") is { Length: > 0 } refusal) resp.Parts.Add(new RefusalPart(refusal));
            foreach (var call in message.Arr("tool_calls"))
            {
                call.Obj("function", out var f);
                resp.Parts.Add(new ToolCallPart
                {
                    Id = call.Str("id") ?? Ids.New("call_"),
                    Name = f.Str("name") ?? "",
                    Arguments = f.Str("arguments") ?? "{}",
                    ThoughtSignature = OpenAIChatRequestCodec.ReadGoogleSignature(call),
                });
            }
        }
        if (root.Obj("usage", out var usage)) resp.Usage = ReadUsage(usage);
        return resp;
    }

    /// <summary>prompt_tokens already includes cached tokens (canonical convention). DeepSeek reports its cache hits separately.</summary>
    public static Usage ReadUsage(JsonElement usage)
    {
        var cached = usage.Obj("prompt_tokens_details", out var pd) ? pd.Long("cached_tokens") : null;
        cached ??= usage.Long("prompt_cache_hit_tokens");
        return new Usage
        {
            InputTokens = usage.Long("prompt_tokens") ?? 0,
            OutputTokens = usage.Long("completion_tokens") ?? 0,
            CacheReadTokens = cached ?? 0,
            ReasoningTokens = usage.Obj("completion_tokens_details", out var cd) ? cd.Long("reasoning_tokens") ?? 0 : 0,
        };
    }

    public static void WriteUsage(Utf8JsonWriter w, in Usage u)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", u.InputTokens);
        w.WriteNumber("completion_tokens", u.OutputTokens);
        w.WriteNumber("total_tokens", u.InputTokens + u.OutputTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", u.CacheReadTokens);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", u.ReasoningTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static byte[] Encode(ChatResponse resp, ApiProtocol upstream, string clientModel) => JsonWrite.ToBytes(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", Ids.New("chatcmpl-"));
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        w.WriteString("model", clientModel);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        var text = Canonicalizer.JoinText(resp.Parts.FindAll(static p => p is TextPart), "");
        var calls = resp.Parts.FindAll(static p => p is ToolCallPart);
        if (text.Length > 0 || calls.Count == 0) w.WriteString("content", text); else w.WriteNull("content");
        var reasoning = string.Concat(resp.Parts.FindAll(static p => p is ThinkingPart { Redacted: false }).ConvertAll(static p => ((ThinkingPart)p).Text));
        if (reasoning.Length > 0) w.WriteString("reasoning_content", reasoning);
        var refusal = Canonicalizer.JoinText(resp.Parts.FindAll(static p => p is RefusalPart), "");
        if (refusal.Length > 0) w.WriteString("refusal", refusal); else w.WriteNull("refusal");
        if (calls.Count > 0)
        {
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
                OpenAIChatRequestCodec.WriteGoogleSignature(w, call.ThoughtSignature);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteNull("logprobs");
        var stop = calls.Count > 0 && resp.StopReason == StopReasons.EndTurn ? StopReasons.ToolUse : resp.StopReason;
        w.WriteString("finish_reason", StopReasons.ToOpenAI(stop));
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, resp.Usage);
        w.WriteEndObject();
    });
}
