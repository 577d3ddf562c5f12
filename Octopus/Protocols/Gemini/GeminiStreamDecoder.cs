using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.Gemini;

/// <summary>Reads a Gemini `streamGenerateContent?alt=sse` stream: each event is a partial GenerateContentResponse.</summary>
internal sealed class GeminiStreamDecoder : IStreamDecoder
{
    private bool _started;
    private bool _sawToolCall;
    private int _nextKey;

    public void OnEvent(in SseEvent ev, IStreamSink sink)
    {
        // Most of a stream is text chunks: one reader pass instead of a document each.
        if (_started && TryTextChunk(ev.DataSpan, sink)) return;
        using var doc = JsonRead.Parse(ev.Data, "Gemini stream chunk");
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0) root = root[0];
        if (root.ValueKind != JsonValueKind.Object) throw new ProtocolException("Gemini stream chunk must be a JSON object");
        if (root.Obj("error", out var error))
        {
            var code = error.Long("code") ?? 500;
            sink.Error(code is >= 400 and < 600 ? (int)code : 500, error.Str("message") ?? "Upstream stream error");
            return;
        }
        if (root.GObj("usageMetadata", out var usage)) sink.Usage(GeminiJson.ReadUsage(usage));
        if (!_started)
        {
            _started = true;
            sink.Start(root.GStr("responseId"), root.GStr("modelVersion"));
        }

        foreach (var candidate in root.GArr("candidates"))
        {
            if (candidate.Long("index") is > 0) continue;
            if (candidate.G("content", out var content))
            {
                foreach (var p in content.GArr("parts")) Part(p, sink);
            }
            if (candidate.GStr("finishReason") is { } finish) sink.Finish(StopReasons.FromGemini(finish, _sawToolCall));
            break;
        }
        if (root.GObj("promptFeedback", out var feedback) && feedback.GStr("blockReason") is not null) sink.Finish(StopReasons.ContentFilter);
    }

    private readonly List<(bool Thought, string Text)> _texts = [];

    /// <summary>
    /// Reports a chunk whose one candidate carries only text parts (thought or not), with its usage, as the document
    /// path would. Anything else (a finish reason, signatures, function calls, an error, prompt feedback, more
    /// candidates, malformed JSON) returns false having reported nothing, and takes the document path. Members the
    /// document path does not read are skipped here too.
    /// </summary>
    private bool TryTextChunk(ReadOnlySpan<byte> data, IStreamSink sink)
    {
        _texts.Clear();
        Domain.Usage usage = default;
        var sawUsage = false;
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            var candidates = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("candidates"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        if (reader.TokenType != JsonTokenType.StartObject || ++candidates > 1 || !TryTextCandidate(ref reader))
                            return false;
                }
                else if (reader.ValueTextEquals("usageMetadata"u8) || reader.ValueTextEquals("usage_metadata"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (sawUsage) return false;
                        usage = ReadUsage(ref reader);
                        sawUsage = true;
                    }
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("error"u8) || reader.ValueTextEquals("promptFeedback"u8) || reader.ValueTextEquals("prompt_feedback"u8))
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
        if (sawUsage) sink.Usage(usage);
        foreach (var (thought, text) in _texts)
        {
            if (thought) sink.Thinking(text);
            else sink.Text(text);
        }
        return true;
    }

    private bool TryTextCandidate(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var index) || index != 0) return false;
            }
            else if (reader.ValueTextEquals("finishReason"u8) || reader.ValueTextEquals("finish_reason"u8))
            {
                if (!reader.NextIsNull()) return false;
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) return false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals("parts"u8))
                    {
                        reader.SkipValue();
                        continue;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        if (reader.TokenType != JsonTokenType.StartObject || !TryTextPart(ref reader)) return false;
                }
            }
            else reader.SkipValue();
        }
        return true;
    }

    private bool TryTextPart(ref Utf8JsonReader reader)
    {
        string? text = null;
        var thought = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) return false;
                text = reader.GetString();
            }
            else if (reader.ValueTextEquals("thought"u8))
            {
                reader.Read();
                thought = reader.TokenType == JsonTokenType.True;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("thoughtSignature"u8) || reader.ValueTextEquals("thought_signature"u8)
                     || reader.ValueTextEquals("functionCall"u8) || reader.ValueTextEquals("function_call"u8))
            {
                return false;
            }
            else reader.SkipValue();
        }
        if (text is null) return false;
        _texts.Add((thought, text));
        return true;
    }

    /// <summary>As <see cref="GeminiJson.ReadUsage"/>, from a reader on the usage object's start.</summary>
    private static Domain.Usage ReadUsage(ref Utf8JsonReader reader)
    {
        long prompt = 0, toolPrompt = 0, candidates = 0, cached = 0, thoughts = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref long slot = ref prompt;
            var known = true;
            if (reader.ValueTextEquals("promptTokenCount"u8) || reader.ValueTextEquals("prompt_token_count"u8)) slot = ref prompt;
            else if (reader.ValueTextEquals("toolUsePromptTokenCount"u8) || reader.ValueTextEquals("tool_use_prompt_token_count"u8)) slot = ref toolPrompt;
            else if (reader.ValueTextEquals("candidatesTokenCount"u8) || reader.ValueTextEquals("candidates_token_count"u8)) slot = ref candidates;
            else if (reader.ValueTextEquals("cachedContentTokenCount"u8) || reader.ValueTextEquals("cached_content_token_count"u8)) slot = ref cached;
            else if (reader.ValueTextEquals("thoughtsTokenCount"u8) || reader.ValueTextEquals("thoughts_token_count"u8)) slot = ref thoughts;
            else known = false;
            reader.Read();
            if (known && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) slot = n;
            else reader.Skip();
        }
        return GeminiJson.UsageOf(prompt, toolPrompt, candidates, cached, thoughts);
    }

    private void Part(JsonElement p, IStreamSink sink)
    {
        var sig = p.GStr("thoughtSignature");
        var thought = p.Prop("thought", out var t) && t.ValueKind == JsonValueKind.True;
        if (p.GStr("text") is { } text)
        {
            if (thought)
            {
                sink.Thinking(text);
                if (sig is not null) sink.ThinkingSignature(sig);
            }
            else
            {
                if (sig is not null) sink.ThinkingSignature(sig);
                sink.Text(text);
            }
            return;
        }
        if (p.GObj("functionCall", out var call))
        {
            _sawToolCall = true;
            var key = _nextKey++;
            sink.ToolCallStart(key, call.GStr("id") ?? Ids.New("call_"), call.GStr("name") ?? "", sig);
            sink.ToolCallArguments(key, call.GObj("args", out var args) ? args.GetRawText() : "{}");
            sink.BlockEnd();
            return;
        }
        if (sig is not null) sink.ThinkingSignature(sig);
    }
}
