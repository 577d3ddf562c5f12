using System.Globalization;
using System.Text.Json;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// Canned provider payloads in each provider's exact wire shape (checked against the recorded fixtures and the
/// official SDKs' types). Usage figures are fixed so tests can assert what was counted: 12 prompt tokens (4 of them
/// cached) and 5 output. Templates use @NAME@ placeholders: JSON reads better without interpolation braces.
/// </summary>
public static class Wire
{
    public const int PromptTokens = 12;
    public const int CachedTokens = 4;
    public const int OutputTokens = 5;

    /// <summary>What the mock's Anthropic channel answers on /messages/count_tokens.</summary>
    public const int CountedTokens = 4242;

    // The one tool the mocks call, and what they "think" first when asked to.
    public const string ToolName = "get_weather";
    public const string ToolArguments = """{"city":"Paris"}""";
    public const string ThinkingText = "The user asked something; I will reason briefly before answering.";
    public const string ChatCallId = "call_mock_weather_1";
    public const string AnthropicCallId = "toolu_mock_weather_1";
    public const string ResponsesCallId = "call_mock_weather_1";
    public const string ResponsesCallItemId = "fc_mock_1";
    public const string ResponsesReasoningItemId = "rs_mock_1";

    // Opaque reasoning signatures, one per provider. The mocks accept only their own back, like the real APIs.
    public const string AnthropicSignature = "EqQBCkgIBxABGAIqQMockAnthropicThinkingSignature0123456789==";
    public const string ResponsesEncryptedContent = "gAAAAABoMockResponsesEncryptedReasoning0123456789==";
    public const string GeminiSignature = "CiQBMockGeminiThoughtSignature0123456789==";
    /// <summary>Gemini's documented value for function calls that never had a signature (other providers' history).</summary>
    public const string GeminiSkipSignature = "skip_thought_signature_validator";

    /// <summary>What a mock says: optionally a thinking block first, then text or one call of <see cref="ToolName"/>.</summary>
    public sealed record Answer(string Text, bool Thinking = false, bool ToolCall = false);

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

    public static string OpenAIChatJson(string model, string text) => OpenAIChatJson(model, new Answer(text));

    public static string OpenAIChatJson(string model, Answer a)
    {
        var reasoning = a.Thinking ? ",\"reasoning_content\":" + J(ThinkingText) : "";
        var message = a.ToolCall
            ? """{"role":"assistant","content":null""" + reasoning + ""","tool_calls":[{"id":""" + J(ChatCallId) + ""","type":"function","function":{"name":""" + J(ToolName) + ""","arguments":""" + J(ToolArguments) + "}}]}"
            : """{"role":"assistant","content":@TEXT@""" + reasoning + "}";
        return Fill(
            """{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":@MODEL@,"choices":[{"index":0,"message":""" + message + ""","finish_reason":""" + (a.ToolCall ? "\"tool_calls\"" : "\"stop\"") + "}],\"usage\":" + OpenAIUsage + "}",
            model, a.Text);
    }

    /// <summary>Asked for usage (`stream_options.include_usage`), OpenAI puts `"usage":null` in every chunk but the last.</summary>
    private static string OpenAIChunk(string model, string delta, string finish, bool includeUsage) => Fill(
        """data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":@MODEL@,"choices":[{"index":0,"delta":""" + delta + ""","finish_reason":""" + finish + "}]" + (includeUsage ? ""","usage":null}""" : "}") + "\n\n",
        model);

    public static List<string> OpenAIChatStream(string model, string text, bool includeUsage) => OpenAIChatStream(model, new Answer(text), includeUsage);

    /// <summary>
    /// Reasoning as DeepSeek-style `reasoning_content` deltas; a tool call as OpenAI streams it: the first delta names
    /// the call (index, id, type, function name, empty arguments), the next ones carry argument fragments by index.
    /// </summary>
    public static List<string> OpenAIChatStream(string model, Answer a, bool includeUsage)
    {
        var events = new List<string>();
        if (!a.ToolCall || a.Thinking) events.Add(OpenAIChunk(model, """{"role":"assistant","content":""}""", "null", includeUsage));
        if (a.Thinking)
            foreach (var p in Pieces(ThinkingText)) events.Add(OpenAIChunk(model, """{"content":null,"reasoning_content":""" + J(p) + "}", "null", includeUsage));
        if (a.ToolCall)
        {
            var role = a.Thinking ? "" : "\"role\":\"assistant\",\"content\":null,";
            events.Add(OpenAIChunk(model, "{" + role + "\"tool_calls\":[{\"index\":0,\"id\":" + J(ChatCallId) + ""","type":"function","function":{"name":""" + J(ToolName) + ""","arguments":""}}]}""", "null", includeUsage));
            foreach (var p in Pieces(ToolArguments))
                events.Add(OpenAIChunk(model, """{"tool_calls":[{"index":0,"function":{"arguments":""" + J(p) + "}}]}", "null", includeUsage));
            events.Add(OpenAIChunk(model, "{}", "\"tool_calls\"", includeUsage));
        }
        else
        {
            foreach (var p in Pieces(a.Text)) events.Add(OpenAIChunk(model, """{"content":""" + J(p) + "}", "null", includeUsage));
            events.Add(OpenAIChunk(model, "{}", "\"stop\"", includeUsage));
        }
        if (includeUsage)
            events.Add(Fill("""data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":@MODEL@,"choices":[],"usage":""" + OpenAIUsage + "}\n\n", model));
        events.Add("data: [DONE]\n\n");
        return events;
    }

    // ---- Anthropic Messages ----
    // Anthropic's input_tokens excludes cache: 12 prompt tokens = 8 input + 4 cache read.
    private const string AnthropicUsage = """{"input_tokens":@AIN@,"cache_creation_input_tokens":0,"cache_read_input_tokens":@C@,"output_tokens":@O@}""";

    public static string AnthropicJson(string model, string text) => AnthropicJson(model, new Answer(text));

    public static string AnthropicJson(string model, Answer a)
    {
        var blocks = new List<string>();
        if (a.Thinking) blocks.Add("""{"type":"thinking","thinking":""" + J(ThinkingText) + ""","signature":""" + J(AnthropicSignature) + "}");
        blocks.Add(a.ToolCall
            ? """{"type":"tool_use","id":""" + J(AnthropicCallId) + ""","name":""" + J(ToolName) + ""","input":""" + ToolArguments + "}"
            : """{"type":"text","text":@TEXT@}""");
        return Fill(
            """{"id":"msg_mock","type":"message","role":"assistant","model":@MODEL@,"content":[""" + string.Join(",", blocks) + """],"stop_reason":""" + (a.ToolCall ? "\"tool_use\"" : "\"end_turn\"") + ""","stop_sequence":null,"usage":""" + AnthropicUsage + "}",
            model, a.Text);
    }

    public static List<string> AnthropicStream(string model, string text) => AnthropicStream(model, new Answer(text));

    private static string AnthropicEvent(string type, string data) => "event: " + type + "\ndata: " + data + "\n\n";

    private static string AnthropicDelta(int index, string delta) =>
        AnthropicEvent("content_block_delta", """{"type":"content_block_delta","index":""" + index + ""","delta":""" + delta + "}");

    /// <summary>
    /// A thinking block streams thinking_delta then one signature_delta before its stop; a tool_use block starts with
    /// an empty input and streams it as input_json_delta fragments (the first one empty, as the API does).
    /// </summary>
    public static List<string> AnthropicStream(string model, Answer a)
    {
        var events = new List<string>
        {
            Fill(AnthropicEvent("message_start", """{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":@MODEL@,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":@AIN@,"cache_creation_input_tokens":0,"cache_read_input_tokens":@C@,"output_tokens":1}}}"""), model),
        };
        var index = 0;
        if (a.Thinking)
        {
            events.Add(AnthropicEvent("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"""));
            foreach (var p in Pieces(ThinkingText)) events.Add(AnthropicDelta(0, """{"type":"thinking_delta","thinking":""" + J(p) + "}"));
            events.Add(AnthropicDelta(0, """{"type":"signature_delta","signature":""" + J(AnthropicSignature) + "}"));
            events.Add(AnthropicEvent("content_block_stop", """{"type":"content_block_stop","index":0}"""));
            index = 1;
        }
        if (a.ToolCall)
        {
            events.Add(AnthropicEvent("content_block_start", """{"type":"content_block_start","index":""" + index + ""","content_block":{"type":"tool_use","id":""" + J(AnthropicCallId) + ""","name":""" + J(ToolName) + ""","input":{}}}"""));
            events.Add(AnthropicDelta(index, """{"type":"input_json_delta","partial_json":""}"""));
            foreach (var p in Pieces(ToolArguments)) events.Add(AnthropicDelta(index, """{"type":"input_json_delta","partial_json":""" + J(p) + "}"));
        }
        else
        {
            events.Add(AnthropicEvent("content_block_start", """{"type":"content_block_start","index":""" + index + ""","content_block":{"type":"text","text":""}}"""));
            events.Add(AnthropicEvent("ping", """{"type":"ping"}"""));
            foreach (var p in Pieces(a.Text)) events.Add(AnthropicDelta(index, """{"type":"text_delta","text":""" + J(p) + "}"));
        }
        events.Add(AnthropicEvent("content_block_stop", """{"type":"content_block_stop","index":""" + index + "}"));
        events.Add(Fill(AnthropicEvent("message_delta", """{"type":"message_delta","delta":{"stop_reason":""" + (a.ToolCall ? "\"tool_use\"" : "\"end_turn\"") + ""","stop_sequence":null},"usage":{"output_tokens":@O@}}"""), model));
        events.Add(AnthropicEvent("message_stop", """{"type":"message_stop"}"""));
        return events;
    }

    // ---- OpenAI Responses ----
    private const string ResponsesUsage = """{"input_tokens":@P@,"input_tokens_details":{"cached_tokens":@C@},"output_tokens":@O@,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":@T@}""";

    private static string ResponseObject(string model, string status, string output, string usage) => Fill(
        "{\"id\":\"resp_mock\",\"object\":\"response\",\"created_at\":1700000000,\"status\":\"" + status + "\",\"model\":@MODEL@,\"output\":" + output + ",\"usage\":" + usage + "}",
        model);

    private static string MessageItem(string text) =>
        """{"id":"msg_mock","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":""" + J(text) + ""","annotations":[]}]}""";

    private static string ReasoningItem(bool done) => done
        ? """{"id":""" + J(ResponsesReasoningItemId) + ""","type":"reasoning","summary":[{"type":"summary_text","text":""" + J(ThinkingText) + """}],"encrypted_content":""" + J(ResponsesEncryptedContent) + "}"
        : """{"id":""" + J(ResponsesReasoningItemId) + ""","type":"reasoning","summary":[]}""";

    private static string FunctionCallItem(bool done) =>
        """{"id":""" + J(ResponsesCallItemId) + ""","type":"function_call","status":""" + (done ? "\"completed\"" : "\"in_progress\"") + ""","arguments":""" + J(done ? ToolArguments : "") + ""","call_id":""" + J(ResponsesCallId) + ""","name":""" + J(ToolName) + "}";

    private static string ResponsesOutput(Answer a)
    {
        var items = new List<string>();
        if (a.Thinking) items.Add(ReasoningItem(done: true));
        items.Add(a.ToolCall ? FunctionCallItem(done: true) : MessageItem(a.Text));
        return "[" + string.Join(",", items) + "]";
    }

    public static string ResponsesJson(string model, string text) => ResponsesJson(model, new Answer(text));

    public static string ResponsesJson(string model, Answer a) => ResponseObject(model, "completed", ResponsesOutput(a), ResponsesUsage);

    public static List<string> ResponsesStream(string model, string text) => ResponsesStream(model, new Answer(text));

    /// <summary>
    /// A reasoning item streams its summary (summary_part.added, summary_text deltas, done events) and carries
    /// encrypted_content when done; a function_call item is added with empty arguments, which then stream as
    /// function_call_arguments deltas.
    /// </summary>
    public static List<string> ResponsesStream(string model, Answer a)
    {
        var seq = 0;
        string Ev(string type, string body) => "event: " + type + "\ndata: {\"type\":\"" + type + "\",\"sequence_number\":" + seq++ + "," + body + "}\n\n";
        var events = new List<string>
        {
            Ev("response.created", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
            Ev("response.in_progress", "\"response\":" + ResponseObject(model, "in_progress", "[]", "null")),
        };
        var index = 0;
        if (a.Thinking)
        {
            var at = "\"item_id\":" + J(ResponsesReasoningItemId) + ",\"output_index\":0,\"summary_index\":0";
            events.Add(Ev("response.output_item.added", "\"output_index\":0,\"item\":" + ReasoningItem(done: false)));
            events.Add(Ev("response.reasoning_summary_part.added", at + ",\"part\":{\"type\":\"summary_text\",\"text\":\"\"}"));
            foreach (var p in Pieces(ThinkingText)) events.Add(Ev("response.reasoning_summary_text.delta", at + ",\"delta\":" + J(p)));
            events.Add(Ev("response.reasoning_summary_text.done", at + ",\"text\":" + J(ThinkingText)));
            events.Add(Ev("response.reasoning_summary_part.done", at + ",\"part\":{\"type\":\"summary_text\",\"text\":" + J(ThinkingText) + "}"));
            events.Add(Ev("response.output_item.done", "\"output_index\":0,\"item\":" + ReasoningItem(done: true)));
            index = 1;
        }
        if (a.ToolCall)
        {
            var at = "\"item_id\":" + J(ResponsesCallItemId) + ",\"output_index\":" + index;
            events.Add(Ev("response.output_item.added", "\"output_index\":" + index + ",\"item\":" + FunctionCallItem(done: false)));
            foreach (var p in Pieces(ToolArguments)) events.Add(Ev("response.function_call_arguments.delta", at + ",\"delta\":" + J(p)));
            events.Add(Ev("response.function_call_arguments.done", at + ",\"arguments\":" + J(ToolArguments)));
            events.Add(Ev("response.output_item.done", "\"output_index\":" + index + ",\"item\":" + FunctionCallItem(done: true)));
        }
        else
        {
            var at = "\"item_id\":\"msg_mock\",\"output_index\":" + index + ",\"content_index\":0";
            events.Add(Ev("response.output_item.added", "\"output_index\":" + index + ""","item":{"id":"msg_mock","type":"message","status":"in_progress","role":"assistant","content":[]}"""));
            events.Add(Ev("response.content_part.added", at + ""","part":{"type":"output_text","text":"","annotations":[]}"""));
            foreach (var p in Pieces(a.Text)) events.Add(Ev("response.output_text.delta", at + ",\"delta\":" + J(p)));
            events.Add(Ev("response.output_text.done", at + ",\"text\":" + J(a.Text)));
            events.Add(Ev("response.content_part.done", at + ""","part":{"type":"output_text","text":""" + J(a.Text) + ""","annotations":[]}"""));
            events.Add(Ev("response.output_item.done", "\"output_index\":" + index + ",\"item\":" + MessageItem(a.Text)));
        }
        events.Add(Ev("response.completed", "\"response\":" + ResponseObject(model, "completed", ResponsesOutput(a), ResponsesUsage)));
        return events;
    }

    // ---- Gemini ----
    private const string GeminiUsage = """{"promptTokenCount":@P@,"candidatesTokenCount":@O@,"totalTokenCount":@T@,"cachedContentTokenCount":@C@}""";

    /// <summary>Thought parts (`thought: true`); the run's signature rides on its last part.</summary>
    private static IEnumerable<string> GeminiThoughtParts()
    {
        var pieces = Pieces(ThinkingText);
        for (var i = 0; i < pieces.Length; i++)
            yield return "{\"text\":" + J(pieces[i]) + ",\"thought\":true" + (i == pieces.Length - 1 ? ",\"thoughtSignature\":" + J(GeminiSignature) : "") + "}";
    }

    /// <summary>Gemini sends a function call whole, with the step's thought signature on the call part (Gemini 3).</summary>
    private static string GeminiCallPart() =>
        "{\"functionCall\":{\"name\":" + J(ToolName) + ",\"args\":" + ToolArguments + "},\"thoughtSignature\":" + J(GeminiSignature) + "}";

    public static string GeminiJson(string model, string text) => GeminiJson(model, new Answer(text));

    public static string GeminiJson(string model, Answer a)
    {
        var parts = new List<string>();
        if (a.Thinking) parts.AddRange(GeminiThoughtParts());
        parts.Add(a.ToolCall ? GeminiCallPart() : "{\"text\":@TEXT@}");
        return Fill(
            """{"candidates":[{"content":{"parts":[""" + string.Join(",", parts) + """],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":""" + GeminiUsage + ""","modelVersion":@MODEL@}""",
            model, a.Text);
    }

    public static List<string> GeminiStream(string model, string text) => GeminiStream(model, new Answer(text));

    public static List<string> GeminiStream(string model, Answer a)
    {
        var chunks = new List<string>();
        if (a.Thinking) chunks.AddRange(GeminiThoughtParts());
        if (a.ToolCall) chunks.Add(GeminiCallPart());
        else foreach (var p in Pieces(a.Text)) chunks.Add("{\"text\":" + J(p) + "}");

        var events = new List<string>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var last = i == chunks.Count - 1;
            var finish = last ? ",\"finishReason\":\"STOP\"" : "";
            var usage = last ? GeminiUsage : """{"promptTokenCount":@P@,"totalTokenCount":@P@}""";
            events.Add(Fill("data: " + """{"candidates":[{"content":{"parts":[""" + chunks[i] + """],"role":"model"}""" + finish + ""","index":0}],"usageMetadata":""" + usage + ""","modelVersion":@MODEL@}""" + "\r\n\r\n", model));
        }
        return events;
    }

    // ---- Errors, in each provider's shape ----
    public static string OpenAIError(string message, string type = "invalid_request_error") =>
        """{"error":{"message":""" + J(message) + ""","type":""" + J(type) + ""","param":null,"code":null}}""";

    public static string AnthropicError(string message, string type = "invalid_request_error") =>
        """{"type":"error","error":{"type":""" + J(type) + ""","message":""" + J(message) + "}}";

    public static string GeminiError(int code, string message, string status = "INVALID_ARGUMENT") =>
        """{"error":{"code":""" + code.ToString(CultureInfo.InvariantCulture) + ""","message":""" + J(message) + ""","status":""" + J(status) + "}}";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
