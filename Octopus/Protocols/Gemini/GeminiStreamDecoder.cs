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
