using System.Text.Json;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// Canned provider payloads in each provider's exact wire shape (checked against the recorded fixtures).
/// Usage figures are fixed so tests can assert what was counted: 12 prompt tokens (4 of them cached) and 5 output.
/// </summary>
public static class Wire
{
    public const int PromptTokens = 12;
    public const int CachedTokens = 4;
    public const int OutputTokens = 5;

    private static string J(string s) => JsonSerializer.Serialize(s, TestJsonContext.Default.String);

    private static string[] Pieces(string text)
    {
        var third = Math.Max(1, text.Length / 3);
        return [text[..third], text[third..(2 * third)], text[(2 * third)..]];
    }

    // ---- OpenAI Chat Completions ----
    public static string OpenAIChatJson(string model, string text) =>
        $$"""{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":{{J(model)}},"choices":[{"index":0,"message":{"role":"assistant","content":{{J(text)}}},"finish_reason":"stop"}],"usage":{"prompt_tokens":{{PromptTokens}},"completion_tokens":{{OutputTokens}},"total_tokens":{{PromptTokens + OutputTokens}},"prompt_tokens_details":{"cached_tokens":{{CachedTokens}}}}}""";

    public static List<string> OpenAIChatStream(string model, string text, bool includeUsage)
    {
        string Chunk(string delta, string finish, string usage = "") =>
            $$"""data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":{{J(model)}},"choices":[{"index":0,"delta":{{delta}},"finish_reason":{{finish}}}]{{usage}}}""" + "\n\n";
        var events = new List<string> { Chunk("""{"role":"assistant","content":""}""", "null") };
        foreach (var p in Pieces(text)) events.Add(Chunk($$"""{"content":{{J(p)}}}""", "null"));
        events.Add(Chunk("{}", "\"stop\""));
        if (includeUsage)
            events.Add($$"""data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":{{J(model)}},"choices":[],"usage":{"prompt_tokens":{{PromptTokens}},"completion_tokens":{{OutputTokens}},"total_tokens":{{PromptTokens + OutputTokens}},"prompt_tokens_details":{"cached_tokens":{{CachedTokens}}}}}""" + "\n\n");
        events.Add("data: [DONE]\n\n");
        return events;
    }

    // ---- Anthropic Messages ----
    // Anthropic's input_tokens excludes cache: 12 prompt tokens = 8 input + 4 cache read.
    public static string AnthropicJson(string model, string text) =>
        $$"""{"id":"msg_mock","type":"message","role":"assistant","model":{{J(model)}},"content":[{"type":"text","text":{{J(text)}}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":{{PromptTokens - CachedTokens}},"cache_creation_input_tokens":0,"cache_read_input_tokens":{{CachedTokens}},"output_tokens":{{OutputTokens}}}}""";

    public static List<string> AnthropicStream(string model, string text)
    {
        var events = new List<string>
        {
            $$"""event: message_start""" + "\n" + $$"""data: {"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":{{J(model)}},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":{{PromptTokens - CachedTokens}},"cache_creation_input_tokens":0,"cache_read_input_tokens":{{CachedTokens}},"output_tokens":1}}}""" + "\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        };
        foreach (var p in Pieces(text))
            events.Add("event: content_block_delta\n" + $$"""data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{{J(p)}}}}""" + "\n\n");
        events.Add("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        events.Add("event: message_delta\n" + $$"""data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":{{OutputTokens}}}}""" + "\n\n");
        events.Add("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        return events;
    }

    // ---- OpenAI Responses ----
    private static string ResponsesUsage => $$"""{"input_tokens":{{PromptTokens}},"input_tokens_details":{"cached_tokens":{{CachedTokens}}},"output_tokens":{{OutputTokens}},"output_tokens_details":{"reasoning_tokens":0},"total_tokens":{{PromptTokens + OutputTokens}}}""";

    private static string ResponseObject(string model, string status, string output, string usage) =>
        $$"""{"id":"resp_mock","object":"response","created_at":1700000000,"status":"{{status}}","model":{{J(model)}},"output":{{output}},"usage":{{usage}}}""";

    private static string MessageItem(string text) =>
        $$"""{"id":"msg_mock","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":{{J(text)}},"annotations":[]}]}""";

    public static string ResponsesJson(string model, string text) => ResponseObject(model, "completed", "[" + MessageItem(text) + "]", ResponsesUsage);

    public static List<string> ResponsesStream(string model, string text)
    {
        var seq = 0;
        string Ev(string type, string body) => $"event: {type}\ndata: {{\"type\":\"{type}\",\"sequence_number\":{seq++},{body}}}\n\n";
        var events = new List<string>
        {
            Ev("response.created", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
            Ev("response.in_progress", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
            Ev("response.output_item.added", """"output_index":0,"item":{"id":"msg_mock","type":"message","status":"in_progress","role":"assistant","content":[]}"""),
            Ev("response.content_part.added", """"item_id":"msg_mock","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}"""),
        };
        foreach (var p in Pieces(text))
            events.Add(Ev("response.output_text.delta", $$""""item_id":"msg_mock","output_index":0,"content_index":0,"delta":{{J(p)}}"""));
        events.Add(Ev("response.output_text.done", $$""""item_id":"msg_mock","output_index":0,"content_index":0,"text":{{J(text)}}"""));
        events.Add(Ev("response.content_part.done", $$""""item_id":"msg_mock","output_index":0,"content_index":0,"part":{"type":"output_text","text":{{J(text)}},"annotations":[]}"""));
        events.Add(Ev("response.output_item.done", $$""""output_index":0,"item":{{MessageItem(text)}}"""));
        events.Add(Ev("response.completed", "\"response\":" + ResponseObject(model, "completed", "[" + MessageItem(text) + "]", ResponsesUsage)));
        return events;
    }

    // ---- Gemini ----
    private static string GeminiUsage => $$"""{"promptTokenCount":{{PromptTokens}},"candidatesTokenCount":{{OutputTokens}},"totalTokenCount":{{PromptTokens + OutputTokens}},"cachedContentTokenCount":{{CachedTokens}}}""";

    public static string GeminiJson(string model, string text) =>
        $$"""{"candidates":[{"content":{"parts":[{"text":{{J(text)}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{{GeminiUsage}},"modelVersion":{{J(model)}}}""";

    public static List<string> GeminiStream(string model, string text)
    {
        var pieces = Pieces(text);
        var events = new List<string>();
        for (var i = 0; i < pieces.Length; i++)
        {
            var last = i == pieces.Length - 1;
            var finish = last ? ",\"finishReason\":\"STOP\"" : "";
            var usage = last ? GeminiUsage : $$"""{"promptTokenCount":{{PromptTokens}},"totalTokenCount":{{PromptTokens}}}""";
            events.Add($$"""data: {"candidates":[{"content":{"parts":[{"text":{{J(pieces[i])}}}],"role":"model"}{{finish}},"index":0}],"usageMetadata":{{usage}},"modelVersion":{{J(model)}}}""" + "\r\n\r\n");
        }
        return events;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
