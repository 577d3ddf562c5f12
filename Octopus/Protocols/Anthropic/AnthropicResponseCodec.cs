using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Anthropic;

/// <summary>Anthropic Messages non-streamed response ⇄ canonical response.</summary>
internal static class AnthropicResponseCodec
{
    public static ChatResponse Decode(ReadOnlySpan<byte> body)
    {
        using var doc = JsonRead.Parse(body, "Anthropic response");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.Prop("content", out var content) || content.ValueKind != JsonValueKind.Array)
            throw new ProtocolException("Anthropic response needs a `content` array");
        var resp = new ChatResponse
        {
            Id = root.Str("id"),
            Model = root.Str("model"),
            StopReason = StopReasons.FromAnthropic(root.Str("stop_reason")),
        };
        foreach (var block in content.EnumerateArray())
        {
            switch (block.Str("type"))
            {
                case "text":
                    resp.Parts.Add(new TextPart(block.Str("text") ?? ""));
                    break;
                case "thinking":
                    resp.Parts.Add(new ThinkingPart { Text = block.Str("thinking") ?? "", Signature = NullIfEmpty(block.Str("signature")), Origin = ApiProtocol.Anthropic });
                    break;
                case "redacted_thinking":
                    resp.Parts.Add(new ThinkingPart { Signature = block.Str("data"), Origin = ApiProtocol.Anthropic, Redacted = true });
                    break;
                case "tool_use":
                    resp.Parts.Add(new ToolCallPart
                    {
                        Id = block.Str("id") ?? Ids.New("toolu_"),
                        Name = block.Str("name") ?? "",
                        Arguments = block.Prop("input", out var input) ? input.GetRawText() : "{}",
                    });
                    break;
                default:
                    ConversionLog.Dropped($"Anthropic response block {block.Str("type")}");
                    break;
            }
        }
        if (root.Obj("usage", out var usage)) resp.Usage = ReadUsage(usage);
        return resp;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Anthropic's input_tokens excludes cache reads and writes; canonical input includes them.</summary>
    public static Usage ReadUsage(JsonElement usage)
    {
        var cacheRead = usage.Long("cache_read_input_tokens") ?? 0;
        var cacheWrite = usage.Long("cache_creation_input_tokens") ?? 0;
        var input = usage.Long("input_tokens");
        return new Usage
        {
            InputTokens = input is null && cacheRead == 0 && cacheWrite == 0 ? 0 : (input ?? 0) + cacheRead + cacheWrite,
            OutputTokens = usage.Long("output_tokens") ?? 0,
            CacheReadTokens = cacheRead,
            CacheWriteTokens = cacheWrite,
        };
    }

    public static void WriteUsage(Utf8JsonWriter w, in Usage u)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", u.UncachedInputTokens);
        w.WriteNumber("cache_creation_input_tokens", u.CacheWriteTokens);
        w.WriteNumber("cache_read_input_tokens", u.CacheReadTokens);
        w.WriteNumber("output_tokens", u.OutputTokens);
        w.WriteEndObject();
    }

    public static byte[] Encode(ChatResponse resp, ApiProtocol upstream, string clientModel) => JsonWrite.ToBytes(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", Ids.New("msg_"));
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", clientModel);
        w.WriteStartArray("content");
        var sawTool = false;
        foreach (var p in resp.Parts)
        {
            switch (p)
            {
                case TextPart t:
                    TextBlock(w, t.Text);
                    break;
                case RefusalPart r:
                    TextBlock(w, r.Text);
                    break;
                case ThinkingPart { Redacted: true } th when (th.Origin ?? upstream) == ApiProtocol.Anthropic:
                    w.WriteStartObject();
                    w.WriteString("type", "redacted_thinking");
                    w.WriteString("data", th.Signature ?? "");
                    w.WriteEndObject();
                    break;
                case ThinkingPart th:
                    ThinkingBlock(w, th.Text, Signatures.ForClient(ApiProtocol.Anthropic, th.Origin ?? upstream, th.Signature, th.Redacted) ?? "");
                    break;
                case ToolCallPart call:
                    sawTool = true;
                    if (call.ThoughtSignature is not null) ThinkingBlock(w, "", Signatures.Tag(ApiProtocol.Gemini, call.ThoughtSignature));
                    w.WriteStartObject();
                    w.WriteString("type", "tool_use");
                    w.WriteString("id", call.Id);
                    w.WriteString("name", call.Name);
                    w.ArgumentsObject("input", call.Arguments);
                    w.WriteEndObject();
                    break;
            }
        }
        w.WriteEndArray();
        var stop = sawTool && resp.StopReason == StopReasons.EndTurn ? StopReasons.ToolUse : resp.StopReason;
        w.WriteString("stop_reason", StopReasons.ToAnthropic(stop));
        w.WriteNull("stop_sequence");
        WriteUsage(w, resp.Usage);
        w.WriteEndObject();
    });

    private static void TextBlock(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void ThinkingBlock(Utf8JsonWriter w, string text, string signature)
    {
        w.WriteStartObject();
        w.WriteString("type", "thinking");
        w.WriteString("thinking", text);
        w.WriteString("signature", signature);
        w.WriteEndObject();
    }
}
