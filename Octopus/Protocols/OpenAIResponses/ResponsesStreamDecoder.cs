using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.OpenAIResponses;

/// <summary>Reads an OpenAI Responses SSE stream (response.created … output items … response.completed).</summary>
internal sealed class ResponsesStreamDecoder : IStreamDecoder
{
    // Output indexes whose content already arrived as deltas; their `done` item must not repeat it.
    private readonly HashSet<long> _streamed = [];
    private readonly HashSet<long> _started = [];
    private bool _sawToolCall;

    public void OnEvent(in SseEvent ev, IStreamSink sink)
    {
        using var doc = JsonRead.Parse(ev.Data, "OpenAI Responses stream event");
        var root = doc.RootElement;
        var type = root.Str("type") ?? ev.EventType;
        var index = root.Long("output_index") ?? -1;
        switch (type)
        {
            case "response.created":
                root.Obj("response", out var created);
                sink.Start(created.Str("id"), created.Str("model"));
                break;
            case "response.output_item.added":
                if (root.Obj("item", out var added) && added.Str("type") == "function_call")
                {
                    _sawToolCall = true;
                    _started.Add(index);
                    sink.ToolCallStart((int)index, added.Str("call_id") ?? Ids.New("call_"), added.Str("name") ?? "", null);
                    if (added.Str("arguments") is { Length: > 0 } initial)
                    {
                        _streamed.Add(index);
                        sink.ToolCallArguments((int)index, initial);
                    }
                }
                break;
            case "response.output_text.delta":
                _streamed.Add(index);
                if (root.Str("delta") is { Length: > 0 } text) sink.Text(text);
                break;
            case "response.refusal.delta":
                _streamed.Add(index);
                if (root.Str("delta") is { Length: > 0 } refusal) sink.Refusal(refusal);
                break;
            case "response.reasoning_summary_part.added":
                // Summaries come in parts; separate them like the non-streamed join does.
                if (root.Long("summary_index") is > 0) sink.Thinking("\n\n");
                break;
            case "response.reasoning_summary_text.delta":
            case "response.reasoning_text.delta":
                _streamed.Add(index);
                if (root.Str("delta") is { Length: > 0 } thinking) sink.Thinking(thinking);
                break;
            case "response.function_call_arguments.delta":
                _streamed.Add(index);
                if (root.Str("delta") is { Length: > 0 } args) sink.ToolCallArguments((int)index, args);
                break;
            case "response.output_item.done":
                if (root.Obj("item", out var item)) ItemDone(index, item, sink);
                break;
            case "response.completed":
            case "response.incomplete":
                if (root.Obj("response", out var response))
                {
                    if (response.Obj("usage", out var usage)) sink.Usage(ResponsesResponseCodec.ReadUsage(usage));
                    sink.Finish(ResponsesResponseCodec.StopReasonOf(response, _sawToolCall));
                }
                break;
            case "response.failed":
            {
                root.Obj("response", out var failed);
                failed.Obj("error", out var error);
                sink.Error(error.Str("code") == "rate_limit_exceeded" ? 429 : 500, error.Str("message") ?? "Upstream response failed");
                break;
            }
            case "error":
                sink.Error(root.Str("code") == "rate_limit_exceeded" ? 429 : 500, root.Str("message") ?? "Upstream stream error");
                break;
        }
    }

    private void ItemDone(long index, System.Text.Json.JsonElement item, IStreamSink sink)
    {
        switch (item.Str("type"))
        {
            case "message":
                if (!_streamed.Contains(index))
                {
                    foreach (var c in item.Arr("content"))
                    {
                        if (c.Str("type") == "output_text" && c.Str("text") is { Length: > 0 } text) sink.Text(text);
                        else if (c.Str("type") == "refusal" && c.Str("refusal") is { Length: > 0 } refusal) sink.Refusal(refusal);
                    }
                }
                sink.BlockEnd();
                break;
            case "reasoning":
                if (!_streamed.Contains(index) && ResponsesResponseCodec.ReasoningText(item) is { Length: > 0 } summary) sink.Thinking(summary);
                if (item.Str("encrypted_content") is { Length: > 0 } encrypted) sink.ThinkingSignature(encrypted);
                sink.BlockEnd();
                break;
            case "function_call":
                if (!_started.Contains(index))
                {
                    _sawToolCall = true;
                    sink.ToolCallStart((int)index, item.Str("call_id") ?? Ids.New("call_"), item.Str("name") ?? "", null);
                }
                if (!_streamed.Contains(index) && item.Str("arguments") is { Length: > 0 } args) sink.ToolCallArguments((int)index, args);
                sink.BlockEnd();
                break;
        }
    }
}
