using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.OpenAIChat;

/// <summary>
/// Reads an OpenAI Chat Completions chunk stream (OpenAI-compatible providers included: DeepSeek `reasoning_content`,
/// OpenRouter `reasoning`/`reasoning_details`, Gemini `extra_content` signatures).
/// </summary>
internal sealed class OpenAIChatStreamDecoder : IStreamDecoder
{
    // Upstream tool-call index → the call currently open at that index (its key and id). Some providers give every
    // call index 0 and tell them apart only by id, so a new id at a used index starts a new call.
    private readonly Dictionary<long, (int Key, string Id)> _calls = [];
    private int _nextKey;
    private int _lastKey = -1;
    private bool _started;

    public void OnEvent(in SseEvent ev, IStreamSink sink)
    {
        if (ev.IsDone) return;
        // Most of a stream is plain text or reasoning deltas: one reader pass instead of a document each.
        if (_started && TryPlainDelta(ev.DataSpan, sink)) return;
        using var doc = JsonRead.Parse(ev.Data, "OpenAI Chat stream chunk");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("OpenAI Chat stream chunk must be a JSON object");
        if (root.Obj("error", out var error))
        {
            sink.Error(StatusFor(error), error.Str("message") ?? "Upstream stream error");
            return;
        }
        if (root.Obj("usage", out var usage)) sink.Usage(OpenAIChatResponseCodec.ReadUsage(usage));
        if (!_started)
        {
            _started = true;
            sink.Start(root.Str("id"), root.Str("model"));
        }

        foreach (var choice in root.Arr("choices"))
        {
            if (choice.Long("index") is > 0) continue;
            if (choice.Obj("delta", out var delta)) Delta(delta, sink);
            if (choice.Str("finish_reason") is { } finish) sink.Finish(StopReasons.FromOpenAI(finish));
        }
    }

    /// <summary>
    /// Reports a chunk whose one choice (index 0) carries only `content` and/or `reasoning_content` text, with null
    /// usage, error and finish reason, as the document path would. Anything else (tool calls, other reasoning
    /// members, a finish, usage, more choices, malformed JSON) returns false having reported nothing, and takes the
    /// document path. Members the document path does not read are skipped here too.
    /// </summary>
    private static bool TryPlainDelta(ReadOnlySpan<byte> data, IStreamSink sink)
    {
        string? content = null, reasoning = null;
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            var choices = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        if (reader.TokenType != JsonTokenType.StartObject || ++choices > 1 || !TryPlainChoice(ref reader, ref content, ref reasoning))
                            return false;
                }
                else if (reader.ValueTextEquals("usage"u8) || reader.ValueTextEquals("error"u8))
                {
                    if (!reader.NextIsNull()) return false;
                }
                else reader.SkipValue();
            }
            if (!reader.EndsDocument()) return false;
        }
        catch (JsonException)
        {
            return false;
        }
        if (!string.IsNullOrEmpty(reasoning)) sink.Thinking(reasoning);
        if (!string.IsNullOrEmpty(content)) sink.Text(content);
        return true;
    }

    private static bool TryPlainChoice(ref Utf8JsonReader reader, ref string? content, ref string? reasoning)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var index) || index != 0) return false;
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                if (!reader.NextIsNull()) return false;
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) return false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("content"u8))
                    {
                        if (!NextStringOrNull(ref reader, out content)) return false;
                    }
                    else if (reader.ValueTextEquals("reasoning_content"u8))
                    {
                        if (!NextStringOrNull(ref reader, out reasoning)) return false;
                    }
                    else if (reader.ValueTextEquals("reasoning"u8) || reader.ValueTextEquals("reasoning_details"u8)
                             || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("tool_calls"u8))
                    {
                        if (!reader.NextIsNull()) return false;
                    }
                    else reader.SkipValue();
                }
            }
            else reader.SkipValue();
        }
        return true;
    }

    private static bool NextStringOrNull(ref Utf8JsonReader reader, out string? value)
    {
        reader.Read();
        value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
    }

    private void Delta(JsonElement delta, IStreamSink sink)
    {
        // One reasoning source per chunk: providers that send both `reasoning` and `reasoning_details` repeat the text.
        var reasoning = delta.Str("reasoning_content");
        if (string.IsNullOrEmpty(reasoning)) reasoning = delta.Str("reasoning");
        if (!string.IsNullOrEmpty(reasoning)) sink.Thinking(reasoning);
        foreach (var detail in delta.Arr("reasoning_details"))
        {
            if (string.IsNullOrEmpty(reasoning) && detail.Str("text") is { Length: > 0 } text) sink.Thinking(text);
            if (detail.Str("signature") is { Length: > 0 } sig) sink.ThinkingSignature(sig);
        }

        if (delta.Str("content") is { Length: > 0 } content) sink.Text(content);
        if (delta.Str("refusal") is { Length: > 0 } refusal) sink.Refusal(refusal);

        foreach (var call in delta.Arr("tool_calls"))
        {
            var index = call.Long("index") ?? 0;
            var id = call.Str("id");
            call.Obj("function", out var f);
            int key;
            if (!string.IsNullOrEmpty(id) && (!_calls.TryGetValue(index, out var open) || open.Id != id))
            {
                key = _nextKey++;
                _calls[index] = (key, id);
                sink.ToolCallStart(key, id, f.Str("name") ?? "", OpenAIChatRequestCodec.ReadGoogleSignature(call));
            }
            else if (_calls.TryGetValue(index, out open))
            {
                key = open.Key;
            }
            else if (f.Str("name") is { Length: > 0 } name)
            {
                // A call without an id: mint one so the client can answer it.
                key = _nextKey++;
                var minted = Ids.New("call_");
                _calls[index] = (key, minted);
                sink.ToolCallStart(key, minted, name, null);
            }
            else
            {
                // Arguments for an index never opened: attach to the most recent call rather than lose them.
                if (_lastKey < 0) continue;
                key = _lastKey;
            }
            _lastKey = key;
            if (f.Str("arguments") is { Length: > 0 } args) sink.ToolCallArguments(key, args);
        }
    }

    internal static int StatusFor(JsonElement error)
    {
        if (error.Long("code") is { } code and >= 400 and < 600) return (int)code;
        return error.Str("type") switch
        {
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            "rate_limit_error" or "insufficient_quota" => 429,
            _ => 500,
        };
    }
}
