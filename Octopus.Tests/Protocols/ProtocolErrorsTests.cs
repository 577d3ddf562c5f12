using System.Text;
using System.Text.Json;
using Octopus.Protocols;

namespace Octopus.Tests.Protocols;

public sealed class ProtocolErrorsTests
{
    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(529, "overloaded_error")]
    public void Anthropic_error_body_uses_the_type_name_for_each_status(int status, string type)
    {
        using var doc = JsonDocument.Parse(ProtocolErrors.Body(ApiProtocol.Anthropic, status, "boom"));
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(type, doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("boom", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(401, "UNAUTHENTICATED")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(404, "NOT_FOUND")]
    [InlineData(429, "RESOURCE_EXHAUSTED")]
    [InlineData(500, "INTERNAL")]
    [InlineData(503, "UNAVAILABLE")]
    [InlineData(504, "DEADLINE_EXCEEDED")]
    public void Gemini_error_body_carries_code_and_status_name(int status, string name)
    {
        using var doc = JsonDocument.Parse(ProtocolErrors.Body(ApiProtocol.Gemini, status, "boom"));
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.Equal(name, error.GetProperty("status").GetString());
        Assert.Equal("boom", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("openai_chat")]
    [InlineData("openai_responses")]
    public void OpenAI_error_body_has_message_type_param_and_code(string wire)
    {
        Assert.True(ApiProtocols.TryParse(wire, out var p));
        using var doc = JsonDocument.Parse(ProtocolErrors.Body(p, 400, "bad", "my_type"));
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("bad", error.GetProperty("message").GetString());
        Assert.Equal("my_type", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.True(error.TryGetProperty("code", out _));
    }

    [Fact]
    public void Anthropic_stream_error_is_an_error_event()
    {
        var text = Encoding.UTF8.GetString(ProtocolErrors.StreamEvent(ApiProtocol.Anthropic, 529, "Overloaded"));
        Assert.StartsWith("event: error\ndata: {", text);
        Assert.EndsWith("}\n\n", text);
        using var doc = JsonDocument.Parse(text["event: error\ndata: ".Length..].Trim());
        Assert.Equal("overloaded_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("openai_chat")]
    [InlineData("gemini")]
    public void Chat_and_Gemini_stream_errors_are_data_chunks_with_an_error_member(string wire)
    {
        Assert.True(ApiProtocols.TryParse(wire, out var p));
        var text = Encoding.UTF8.GetString(ProtocolErrors.StreamEvent(p, 500, "upstream died"));
        Assert.StartsWith("data: {", text);
        Assert.EndsWith("}\n\n", text);
        using var doc = JsonDocument.Parse(text["data: ".Length..].Trim());
        Assert.Equal("upstream died", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void Responses_stream_error_is_response_failed_with_the_message()
    {
        var text = Encoding.UTF8.GetString(ProtocolErrors.StreamEvent(ApiProtocol.OpenAIResponses, 500, "upstream died"));
        Assert.StartsWith("event: response.failed\ndata: {", text);
        using var doc = JsonDocument.Parse(text["event: response.failed\ndata: ".Length..].Trim());
        Assert.Equal("response.failed", doc.RootElement.GetProperty("type").GetString());
        var response = doc.RootElement.GetProperty("response");
        Assert.Equal("failed", response.GetProperty("status").GetString());
        Assert.Equal("upstream died", response.GetProperty("error").GetProperty("message").GetString());
    }
}
