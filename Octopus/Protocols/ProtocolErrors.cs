using System.Buffers;
using System.Text.Json;

namespace Octopus.Protocols;

/// <summary>
/// The one place that shapes errors the way each protocol's official SDK parses them, both as a response body and
/// as an in-band SSE event once a stream has started.
/// </summary>
internal static class ProtocolErrors
{
    /// <summary>The protocol's error JSON body for <paramref name="status"/>. <paramref name="type"/> overrides the
    /// error type name (OpenAI/Anthropic) when the caller knows a better one, e.g. the upstream's own; <paramref name="code"/>
    /// likewise overrides OpenAI's error code.</summary>
    public static byte[] Body(ApiProtocol p, int status, string message, string? type = null, string? code = null)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + message.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteBody(w, p, status, message, type, code);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One complete SSE event (with its framing) that tells the client's SDK the stream failed.</summary>
    public static byte[] StreamEvent(ApiProtocol p, int status, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(192 + message.Length);
        WriteStreamEvent(buffer, p, status, message, sequenceNumber: 0, responseId: null, model: null);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes the in-band error event. Responses streams need their running sequence number and response id so the
    /// `response.failed` event continues the stream the client has already seen.
    /// </summary>
    internal static void WriteStreamEvent(IBufferWriter<byte> output, ApiProtocol p, int status, string message,
        long sequenceNumber, string? responseId, string? model)
    {
        switch (p)
        {
            case ApiProtocol.Anthropic:
                output.Write("event: error\ndata: "u8);
                using (var w = new Utf8JsonWriter(output)) WriteBody(w, p, status, message, null);
                break;
            case ApiProtocol.OpenAIResponses:
                output.Write("event: response.failed\ndata: "u8);
                using (var w = new Utf8JsonWriter(output))
                {
                    w.WriteStartObject();
                    w.WriteString("type", "response.failed");
                    w.WriteNumber("sequence_number", sequenceNumber);
                    w.WriteStartObject("response");
                    w.WriteString("id", responseId ?? "resp_error");
                    w.WriteString("object", "response");
                    w.WriteNumber("created_at", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                    w.WriteString("status", "failed");
                    w.WriteStartObject("error");
                    w.WriteString("code", ResponsesErrorCode(status));
                    w.WriteString("message", message);
                    w.WriteEndObject();
                    w.WriteNull("incomplete_details");
                    if (model is null) w.WriteNull("model"); else w.WriteString("model", model);
                    w.WriteStartArray("output");
                    w.WriteEndArray();
                    w.WriteNull("usage");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                break;
            default:
                // OpenAI Chat and Gemini streams carry no event names: a data chunk with an `error` member.
                output.Write("data: "u8);
                using (var w = new Utf8JsonWriter(output)) WriteBody(w, p, status, message, null);
                break;
        }
        output.Write("\n\n"u8);
    }

    private static void WriteBody(Utf8JsonWriter w, ApiProtocol p, int status, string message, string? type, string? code = null)
    {
        w.WriteStartObject();
        switch (p)
        {
            case ApiProtocol.Anthropic:
                w.WriteString("type", "error");
                w.WriteStartObject("error");
                w.WriteString("type", type ?? AnthropicType(status));
                w.WriteString("message", message);
                w.WriteEndObject();
                break;
            case ApiProtocol.Gemini:
                w.WriteStartObject("error");
                w.WriteNumber("code", status);
                w.WriteString("message", message);
                w.WriteString("status", GeminiStatus(status));
                w.WriteEndObject();
                break;
            default:
                w.WriteStartObject("error");
                w.WriteString("message", message);
                w.WriteString("type", type ?? OpenAIType(status));
                w.WriteNull("param");
                code ??= OpenAICode(status);
                if (code is null) w.WriteNull("code"); else w.WriteString("code", code);
                w.WriteEndObject();
                break;
        }
        w.WriteEndObject();
    }

    public static string AnthropicType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 or 503 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static string OpenAIType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string? OpenAICode(int status) => status switch
    {
        401 => "invalid_api_key",
        429 => "rate_limit_exceeded",
        _ => null,
    };

    private static string ResponsesErrorCode(int status) => status switch
    {
        429 => "rate_limit_exceeded",
        400 => "invalid_prompt",
        _ => "server_error",
    };

    public static string GeminiStatus(int status) => status switch
    {
        400 or 413 or 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 or 529 or 502 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        >= 500 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    };
}
