using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.Anthropic;

/// <summary>Reads an Anthropic Messages SSE stream (message_start … content_block_* … message_delta, message_stop).</summary>
internal sealed class AnthropicStreamDecoder : IStreamDecoder
{
    // Blocks we do not convert (server tools and their results): their deltas are skipped too.
    private readonly HashSet<long> _ignored = [];
    private Usage _usage;

    public void OnEvent(in SseEvent ev, IStreamSink sink)
    {
        // Most of a stream is content_block_delta events: one reader pass instead of a document each.
        if (ev.EventType == "content_block_delta" && TryContentDelta(ev.DataSpan, sink)) return;
        using var doc = JsonRead.Parse(ev.Data, "Anthropic stream event");
        var root = doc.RootElement;
        var type = root.Str("type") ?? ev.EventType;
        switch (type)
        {
            case "message_start":
                if (root.Obj("message", out var message))
                {
                    if (message.Obj("usage", out var u))
                    {
                        _usage = AnthropicResponseCodec.ReadUsage(u);
                        sink.Usage(_usage);
                    }
                    sink.Start(message.Str("id"), message.Str("model"));
                }
                break;
            case "content_block_start":
            {
                var index = root.Long("index") ?? 0;
                if (!root.Obj("content_block", out var block)) break;
                switch (block.Str("type"))
                {
                    case "text":
                        if (block.Str("text") is { Length: > 0 } initial) sink.Text(initial);
                        break;
                    case "thinking":
                        if (block.Str("thinking") is { Length: > 0 } thought) sink.Thinking(thought);
                        if (block.Str("signature") is { Length: > 0 } sig) sink.ThinkingSignature(sig);
                        break;
                    case "redacted_thinking":
                        sink.RedactedThinking(block.Str("data") ?? "");
                        break;
                    case "tool_use":
                        sink.ToolCallStart((int)index, block.Str("id") ?? Ids.New("toolu_"), block.Str("name") ?? "", null);
                        // Deltas carry the input; a non-empty initial input (rare) is sent as the first fragment.
                        if (block.RawObject("input") is { } input && input.Trim() != "{}") sink.ToolCallArguments((int)index, input);
                        break;
                    default:
                        _ignored.Add(index);
                        ConversionLog.Dropped($"Anthropic stream block {block.Str("type")}");
                        break;
                }
                break;
            }
            case "content_block_delta":
            {
                var index = root.Long("index") ?? 0;
                if (_ignored.Contains(index) || !root.Obj("delta", out var delta)) break;
                switch (delta.Str("type"))
                {
                    case "text_delta":
                        if (delta.Str("text") is { Length: > 0 } text) sink.Text(text);
                        break;
                    case "thinking_delta":
                        if (delta.Str("thinking") is { Length: > 0 } thinking) sink.Thinking(thinking);
                        break;
                    case "signature_delta":
                        if (delta.Str("signature") is { Length: > 0 } signature) sink.ThinkingSignature(signature);
                        break;
                    case "input_json_delta":
                        if (delta.Str("partial_json") is { Length: > 0 } json) sink.ToolCallArguments((int)index, json);
                        break;
                }
                break;
            }
            case "content_block_stop":
                if (!_ignored.Contains(root.Long("index") ?? -1)) sink.BlockEnd();
                break;
            case "message_delta":
                if (root.Obj("usage", out var usage))
                {
                    // message_delta usage is cumulative; input fields appear only on some versions.
                    var next = AnthropicResponseCodec.ReadUsage(usage);
                    if (next.InputTokens == 0) next.InputTokens = _usage.InputTokens;
                    if (next.CacheReadTokens == 0) next.CacheReadTokens = _usage.CacheReadTokens;
                    if (next.CacheWriteTokens == 0) next.CacheWriteTokens = _usage.CacheWriteTokens;
                    _usage = next;
                    sink.Usage(next);
                }
                if (root.Obj("delta", out var md) && md.Str("stop_reason") is { } stop) sink.Finish(StopReasons.FromAnthropic(stop));
                break;
            case "error":
            {
                root.Obj("error", out var error);
                sink.Error(StatusFor(error.Str("type")), error.Str("message") ?? "Upstream stream error");
                break;
            }
            // ping, message_stop: nothing to convert.
        }
    }

    /// <summary>
    /// Reads a content_block_delta without a document and reports it as the document path would. False, having
    /// reported nothing, for what it does not expect (malformed JSON included): the document path then handles it.
    /// </summary>
    private bool TryContentDelta(ReadOnlySpan<byte> data, IStreamSink sink)
    {
        long index = 0;
        var sawDelta = false;
        ReadOnlySpan<byte> type = default;
        string? text = null, thinking = null, signature = null, partialJson = null;
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("content_block_delta"u8)) return false;
                }
                else if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out index)) return false;
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject || sawDelta) return false;
                    sawDelta = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("type"u8))
                        {
                            reader.Read();
                            if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return false;
                            type = reader.ValueSpan;
                        }
                        else if (reader.ValueTextEquals("text"u8)) text = StringValue(ref reader);
                        else if (reader.ValueTextEquals("thinking"u8)) thinking = StringValue(ref reader);
                        else if (reader.ValueTextEquals("signature"u8)) signature = StringValue(ref reader);
                        else if (reader.ValueTextEquals("partial_json"u8)) partialJson = StringValue(ref reader);
                        else reader.SkipValue();
                    }
                }
                else reader.SkipValue();
            }
            if (!reader.EndsDocument()) return false;
        }
        catch (JsonException)
        {
            return false;
        }
        if (!sawDelta || _ignored.Contains(index)) return true;
        if (type.SequenceEqual("text_delta"u8))
        {
            if (text is { Length: > 0 }) sink.Text(text);
        }
        else if (type.SequenceEqual("thinking_delta"u8))
        {
            if (thinking is { Length: > 0 }) sink.Thinking(thinking);
        }
        else if (type.SequenceEqual("signature_delta"u8))
        {
            if (signature is { Length: > 0 }) sink.ThinkingSignature(signature);
        }
        else if (type.SequenceEqual("input_json_delta"u8))
        {
            if (partialJson is { Length: > 0 }) sink.ToolCallArguments((int)index, partialJson);
        }
        return true;
    }

    /// <summary>The next value as a string; null when it is not one (the document path reads it the same way).</summary>
    private static string? StringValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    public static int StatusFor(string? anthropicType) => anthropicType switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };
}
