using System.Globalization;
using System.Text.Json;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// Canned provider payloads in each provider's exact wire shape (checked against the recorded fixtures).
/// Usage figures are fixed so tests can assert what was counted: 12 prompt tokens (4 of them cached) and 5 output.
/// Templates use @NAME@ placeholders: JSON reads better without interpolation braces.
/// </summary>
public static class Wire
{
    public const int PromptTokens = 12;
    public const int CachedTokens = 4;
    public const int OutputTokens = 5;

    public static string J(string s) => JsonSerializer.Serialize(s, TestJsonContext.Default.String);

    private static string Fill(string template, string model, string text = "") => template
        .Replace("@MODEL@", J(model))
        .Replace("@TEXT@", J(text))
        .Replace("@P@", PromptTokens.ToString(CultureInfo.InvariantCulture))
        .Replace("@C@", CachedTokens.ToString(CultureInfo.InvariantCulture))
        .Replace("@O@", OutputTokens.ToString(CultureInfo.InvariantCulture))
        .Replace("@T@", (PromptTokens + OutputTokens).ToString(CultureInfo.InvariantCulture))
        .Replace("@AIN@", (PromptTokens - CachedTokens).ToString(CultureInfo.InvariantCulture));

    private static string[] Pieces(string text)
    {
        var third = Math.Max(1, text.Length / 3);
        return [text[..third], text[third..(2 * third)], text[(2 * third)..]];
    }

    // ---- OpenAI Chat Completions ----
    private const string OpenAIUsage = """{"prompt_tokens":@P@,"completion_tokens":@O@,"total_tokens":@T@,"prompt_tokens_details":{"cached_tokens":@C@}}""";

    public static string OpenAIChatJson(string model, string text) => Fill(
        """{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":@MODEL@,"choices":[{"index":0,"message":{"role":"assistant","content":@TEXT@},"finish_reason":"stop"}],"usage":""" + OpenAIUsage + "}",
        model, text);

    private static string OpenAIChunk(string model, string delta, string finish) => Fill(
        """data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":@MODEL@,"choices":[{"index":0,"delta":""" + delta + ""","finish_reason":""" + finish + "}]}\n\n",
        model);

    public static List<string> OpenAIChatStream(string model, string text, bool includeUsage)
    {
        var events = new List<string> { OpenAIChunk(model, """{"role":"assistant","content":""}""", "null") };
        foreach (var p in Pieces(text)) events.Add(OpenAIChunk(model, """{"content":""" + J(p) + "}", "null"));
        events.Add(OpenAIChunk(model, "{}", "\"stop\""));
        if (includeUsage)
            events.Add(Fill("""data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":@MODEL@,"choices":[],"usage":""" + OpenAIUsage + "}\n\n", model));
        events.Add("data: [DONE]\n\n");
        return events;
    }

    // ---- Anthropic Messages ----
    // Anthropic's input_tokens excludes cache: 12 prompt tokens = 8 input + 4 cache read.
    public static string AnthropicJson(string model, string text) => Fill(
        """{"id":"msg_mock","type":"message","role":"assistant","model":@MODEL@,"content":[{"type":"text","text":@TEXT@}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":@AIN@,"cache_creation_input_tokens":0,"cache_read_input_tokens":@C@,"output_tokens":@O@}}""",
        model, text);

    public static List<string> AnthropicStream(string model, string text)
    {
        var events = new List<string>
        {
            Fill("event: message_start\ndata: " + """{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":@MODEL@,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":@AIN@,"cache_creation_input_tokens":0,"cache_read_input_tokens":@C@,"output_tokens":1}}}""" + "\n\n", model),
            "event: content_block_start\ndata: " + """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""" + "\n\n",
            "event: ping\ndata: " + """{"type":"ping"}""" + "\n\n",
        };
        foreach (var p in Pieces(text))
            events.Add("event: content_block_delta\ndata: " + """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""" + J(p) + "}}\n\n");
        events.Add("event: content_block_stop\ndata: " + """{"type":"content_block_stop","index":0}""" + "\n\n");
        events.Add(Fill("event: message_delta\ndata: " + """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":@O@}}""" + "\n\n", model));
        events.Add("event: message_stop\ndata: " + """{"type":"message_stop"}""" + "\n\n");
        return events;
    }

    // ---- OpenAI Responses ----
    private const string ResponsesUsage = """{"input_tokens":@P@,"input_tokens_details":{"cached_tokens":@C@},"output_tokens":@O@,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":@T@}""";

    private static string ResponseObject(string model, string status, string output, string usage) => Fill(
        "{\"id\":\"resp_mock\",\"object\":\"response\",\"created_at\":1700000000,\"status\":\"" + status + "\",\"model\":@MODEL@,\"output\":" + output + ",\"usage\":" + usage + "}",
        model);

    private static string MessageItem(string text) =>
        """{"id":"msg_mock","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":""" + J(text) + ""","annotations":[]}]}""";

    public static string ResponsesJson(string model, string text) => ResponseObject(model, "completed", "[" + MessageItem(text) + "]", ResponsesUsage);

    public static List<string> ResponsesStream(string model, string text)
    {
        var seq = 0;
        string Ev(string type, string body) => "event: " + type + "\ndata: {\"type\":\"" + type + "\",\"sequence_number\":" + seq++ + "," + body + "}\n\n";
        var events = new List<string>
        {
            Ev("response.created", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
            Ev("response.in_progress", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
            Ev("response.output_item.added", "\"output_index\"" + """:0,"item":{"id":"msg_mock","type":"message","status":"in_progress","role":"assistant","content":[]}"""),
            Ev("response.content_part.added", "\"item_id\"" + """:"msg_mock","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}"""),
        };
        foreach (var p in Pieces(text))
            events.Add(Ev("response.output_text.delta", "\"item_id\"" + """:"msg_mock","output_index":0,"content_index":0,"delta":""" + J(p)));
        events.Add(Ev("response.output_text.done", "\"item_id\"" + """:"msg_mock","output_index":0,"content_index":0,"text":""" + J(text)));
        events.Add(Ev("response.content_part.done", "\"item_id\"" + """:"msg_mock","output_index":0,"content_index":0,"part":{"type":"output_text","text":""" + J(text) + ""","annotations":[]}"""));
        events.Add(Ev("response.output_item.done", "\"output_index\"" + """:0,"item":""" + MessageItem(text)));
        events.Add(Ev("response.completed", "\"response\":" + ResponseObject(model, "completed", "[" + MessageItem(text) + "]", ResponsesUsage)));
        return events;
    }

    // ---- Gemini ----
    private const string GeminiUsage = """{"promptTokenCount":@P@,"candidatesTokenCount":@O@,"totalTokenCount":@T@,"cachedContentTokenCount":@C@}""";

    public static string GeminiJson(string model, string text) => Fill(
        """{"candidates":[{"content":{"parts":[{"text":@TEXT@}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":""" + GeminiUsage + ""","modelVersion":@MODEL@}""",
        model, text);

    public static List<string> GeminiStream(string model, string text)
    {
        var pieces = Pieces(text);
        var events = new List<string>();
        for (var i = 0; i < pieces.Length; i++)
        {
            var last = i == pieces.Length - 1;
            var finish = last ? ",\"finishReason\":\"STOP\"" : "";
            var usage = last ? GeminiUsage : """{"promptTokenCount":@P@,"totalTokenCount":@P@}""";
            events.Add(Fill("data: " + """{"candidates":[{"content":{"parts":[{"text":""" + J(pieces[i]) + """}],"role":"model"}""" + finish + ""","index":0}],"usageMetadata":""" + usage + ""","modelVersion":@MODEL@}""" + "\r\n\r\n", model));
        }
        return events;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
