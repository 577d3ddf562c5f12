using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.Passthrough;

internal enum StreamEventKind
{
    /// <summary>Framing, pings, comments, role-only deltas: nothing the user sees.</summary>
    Other,
    /// <summary>Text, thinking, tool-call deltas or the end of the answer.</summary>
    Content,
    /// <summary>OpenAI Chat's trailing usage-only chunk (empty choices).</summary>
    UsageOnly,
    /// <summary>An in-band error from the upstream.</summary>
    Error,
    /// <summary>`data: [DONE]`.</summary>
    Done,
}

/// <summary>
/// Watches a same-protocol stream as it is copied: classifies each event (for the first-content timeout and
/// usage-chunk stripping) and keeps the usage. Parses only the few events that can carry usage.
/// </summary>
internal sealed class StreamObserver(ApiProtocol protocol)
{
    private AnthropicParts _anthropic;
    private bool _sawContent;
    private Usage _usage;

    public Usage Usage => protocol switch
    {
        ApiProtocol.Anthropic => UsageJson.Combine(_anthropic),
        ApiProtocol.Gemini => GeminiUsage(),
        _ => _usage,
    };
    public string? ErrorMessage { get; private set; }
    /// <summary>The stream reached its protocol's normal end (message_stop, response.completed, [DONE], finishReason).</summary>
    public bool Finished { get; private set; }

    public StreamEventKind Observe(in SseEvent ev)
    {
        if (!ev.HasData) return StreamEventKind.Other;
        try
        {
            return protocol switch
            {
                ApiProtocol.Anthropic => ObserveAnthropic(ev),
                ApiProtocol.OpenAIResponses => ObserveResponses(ev),
                ApiProtocol.Gemini => ObserveGemini(ev),
                _ => ObserveOpenAIChat(ev),
            };
        }
        catch (JsonException)
        {
            ErrorMessage = "upstream sent malformed JSON in its stream";
            return StreamEventKind.Error;
        }
    }

    private StreamEventKind ObserveOpenAIChat(in SseEvent ev)
    {
        if (ev.IsDone)
        {
            Finished = true;
            return StreamEventKind.Done;
        }
        // Once content flows, most chunks are plain deltas: only those that carry usage, the finish reason or an error
        // are read. OpenAI (and most compatible servers) send `"usage":null` in every chunk when usage is asked for,
        // as the relay always asks, so a null member does not count.
        var data = ev.DataSpan;
        if (_sawContent && !HasNonNullMember(data, "\"usage\""u8) && !HasNonNullMember(data, "\"finish_reason\""u8) && !HasNonNullMember(data, "\"error\""u8))
            return StreamEventKind.Content;
        var kind = ReadOpenAIChatChunk(ev.Data);
        _sawContent |= kind == StreamEventKind.Content;
        return kind;
    }

    /// <summary>
    /// True when <paramref name="data"/> has a member named <paramref name="quotedName"/> whose value is not null. A
    /// match inside a string value is followed by no colon (quotes inside strings are escaped), so it does not count.
    /// </summary>
    internal static bool HasNonNullMember(ReadOnlySpan<byte> data, ReadOnlySpan<byte> quotedName) =>
        NonNullMemberValue(data, quotedName) >= 0;

    /// <summary>Where the value of the first non-null member <paramref name="quotedName"/> starts, or -1.</summary>
    internal static int NonNullMemberValue(ReadOnlySpan<byte> data, ReadOnlySpan<byte> quotedName)
    {
        var offset = 0;
        while (true)
        {
            var at = data[offset..].IndexOf(quotedName);
            if (at < 0) return -1;
            offset = SkipSpace(data, offset + at + quotedName.Length);
            if (offset == data.Length || data[offset] != (byte)':') continue;
            offset = SkipSpace(data, offset + 1);
            if (!data[offset..].StartsWith("null"u8)) return offset;
        }
    }

    private static int SkipSpace(ReadOnlySpan<byte> data, int offset)
    {
        while (offset < data.Length && data[offset] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') offset++;
        return offset;
    }

    /// <summary>
    /// One pass of a reader over a chunk (no document): its kind, the finish reason and the usage object, which alone is
    /// parsed into a document. An error member (rare) is read from a document of the whole chunk.
    /// </summary>
    private StreamEventKind ReadOpenAIChatChunk(ReadOnlyMemory<byte> data)
    {
        var reader = new Utf8JsonReader(data.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a chunk is not an object");
        var kind = StreamEventKind.Other;
        var choices = 0;
        var usage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    choices++;
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    if (ReadChoice(ref reader)) kind = StreamEventKind.Content;
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var from = (int)reader.TokenStartIndex;
                    reader.Skip();
                    using var doc = JsonDocument.Parse(data[from..(int)reader.BytesConsumed]);
                    _usage = UsageJson.FromOpenAIChat(doc.RootElement);
                    usage = true;
                }
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    using var doc = JsonDocument.Parse(data);
                    return Error(doc.RootElement.GetProperty("error"));
                }
            }
            else reader.SkipValue();
        }
        if (!reader.EndsDocument()) throw new JsonException("a chunk is not one object");
        return choices == 0 ? usage ? StreamEventKind.UsageOnly : StreamEventKind.Other : kind;
    }

    /// <summary>Reads one choice object to its end: true when it finishes the answer or its delta carries content.</summary>
    private bool ReadChoice(ref Utf8JsonReader reader)
    {
        var content = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    Finished = true;
                    content = true;
                }
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                // Role-only and empty-text deltas are framing; any text, tool call or other structure is content.
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var role = reader.ValueTextEquals("role"u8);
                    reader.Read();
                    if (!role && reader.TokenType switch
                        {
                            JsonTokenType.String => reader.ValueSpan.Length > 0,
                            JsonTokenType.StartArray or JsonTokenType.StartObject => true,
                            _ => false,
                        })
                        content = true;
                    reader.Skip();
                }
            }
            else reader.SkipValue();
        }
        return content;
    }

    private StreamEventKind ObserveAnthropic(in SseEvent ev)
    {
        switch (ev.EventType)
        {
            case "content_block_delta":
                return StreamEventKind.Content;
            case "content_block_start":
                // A text block opens empty; a tool_use block already names the tool.
                return ev.DataSpan.IndexOf("\"tool_use\""u8) >= 0 || ev.DataSpan.IndexOf("\"server_tool_use\""u8) >= 0 || ev.DataSpan.IndexOf("\"redacted_thinking\""u8) >= 0
                    ? StreamEventKind.Content : StreamEventKind.Other;
            case "message_start":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                if (doc.RootElement.TryGetProperty("message", out var m) && m.TryGetProperty("usage", out var u))
                    _anthropic = UsageJson.ReadAnthropicParts(u, _anthropic);
                return StreamEventKind.Other;
            }
            case "message_delta":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                if (doc.RootElement.TryGetProperty("usage", out var u))
                    _anthropic = UsageJson.ReadAnthropicParts(u, _anthropic);
                return StreamEventKind.Content;
            }
            case "message_stop":
                Finished = true;
                return StreamEventKind.Content;
            case "error":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                return doc.RootElement.TryGetProperty("error", out var err) ? Error(err) : Error(doc.RootElement);
            }
            default:
                return StreamEventKind.Other; // ping, content_block_stop
        }
    }

    private StreamEventKind ObserveResponses(in SseEvent ev)
    {
        var type = ev.EventType;
        if (type is null)
        {
            // Some compatible servers omit `event:`; the type is also in the payload.
            using var doc = JsonDocument.Parse(ev.Data);
            type = doc.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }
        switch (type)
        {
            case "response.completed" or "response.incomplete":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                _usage = UsageJson.FromRoot(ApiProtocol.OpenAIResponses, doc.RootElement);
                Finished = true;
                return StreamEventKind.Content;
            }
            case "response.failed":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                _usage = UsageJson.FromRoot(ApiProtocol.OpenAIResponses, doc.RootElement);
                var root = doc.RootElement.TryGetProperty("response", out var r) ? r : doc.RootElement;
                return root.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object ? Error(err) : Error(root);
            }
            case "error":
            {
                using var doc = JsonDocument.Parse(ev.Data);
                return Error(doc.RootElement.TryGetProperty("error", out var err) ? err : doc.RootElement);
            }
            case null:
                return StreamEventKind.Other;
        }
        if (type.EndsWith(".delta", StringComparison.Ordinal) || type.EndsWith(".done", StringComparison.Ordinal) && type.Contains("output_item", StringComparison.Ordinal))
            return StreamEventKind.Content;
        if (type == "response.output_item.added" && ev.DataSpan.IndexOf("\"function_call\""u8) >= 0)
            return StreamEventKind.Content;
        return StreamEventKind.Other;
    }

    // Gemini repeats its cumulative usageMetadata in every chunk. Once content flows, a chunk without a finish reason
    // or an error is content as it is: only the bytes of its usage object are kept (the latest), read when asked for.
    private byte[] _geminiUsage = [];
    private int _geminiUsageLength;

    private StreamEventKind ObserveGemini(in SseEvent ev)
    {
        var data = ev.DataSpan;
        if (_sawContent && !HasNonNullMember(data, "\"error\""u8) && !HasNonNullMember(data, "\"finishReason\""u8))
        {
            if (NonNullMemberValue(data, "\"usageMetadata\""u8) is var at and >= 0) KeepGeminiUsage(data[at..]);
            return StreamEventKind.Content;
        }
        using var doc = JsonDocument.Parse(ev.Data);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var err)) return Error(err);
        if (root.TryGetProperty("usageMetadata", out var u))
        {
            _usage = UsageJson.FromGemini(u);
            _geminiUsageLength = 0;
        }
        var kind = StreamEventKind.Other;
        if (root.TryGetProperty("candidates", out var cands) && cands.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in cands.EnumerateArray())
            {
                if (c.TryGetProperty("finishReason", out var fr) && fr.ValueKind == JsonValueKind.String)
                {
                    Finished = true;
                    kind = StreamEventKind.Content;
                }
                if (c.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
                {
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (part.TryGetProperty("functionCall", out _) || part.TryGetProperty("inlineData", out _) ||
                            part.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 })
                            kind = StreamEventKind.Content;
                    }
                }
            }
        }
        _sawContent |= kind == StreamEventKind.Content;
        return kind;
    }

    /// <summary>Copies the usage object that starts <paramref name="value"/> (malformed: left for the stream's end).</summary>
    private void KeepGeminiUsage(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return;
            reader.Skip();
        }
        catch (JsonException)
        {
            return;
        }
        var length = (int)reader.BytesConsumed;
        if (_geminiUsage.Length < length) _geminiUsage = new byte[Math.Max(length, 256)];
        value[..length].CopyTo(_geminiUsage);
        _geminiUsageLength = length;
    }

    private Usage GeminiUsage()
    {
        if (_geminiUsageLength > 0)
        {
            using var doc = JsonDocument.Parse(_geminiUsage.AsMemory(0, _geminiUsageLength));
            _usage = UsageJson.FromGemini(doc.RootElement);
            _geminiUsageLength = 0;
        }
        return _usage;
    }

    private StreamEventKind Error(JsonElement err)
    {
        if (err.ValueKind == JsonValueKind.Object && err.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
            ErrorMessage = m.GetString();
        else if (err.ValueKind == JsonValueKind.String)
            ErrorMessage = err.GetString();
        else
        {
            var raw = err.GetRawText();
            ErrorMessage = raw.Length > 300 ? raw[..300] : raw;
        }
        ErrorMessage ??= "upstream stream error";
        return StreamEventKind.Error;
    }
}
