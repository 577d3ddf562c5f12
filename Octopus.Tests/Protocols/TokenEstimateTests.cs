using System.Text;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;

namespace Octopus.Tests.Protocols;

/// <summary>
/// The input-token estimate made during the relay's one scan of a body (routing rules' min_input_tokens and
/// count_tokens use it): four bytes of text a token, 4 a message, 1600 an image, 3000 a document or file; ids,
/// roles, part types and base64 payloads are not text.
/// </summary>
public sealed class TokenEstimateTests
{
    private static RequestInfo Scan(ApiProtocol protocol, string body) => RequestInspector.Inspect(protocol, Encoding.UTF8.GetBytes(body));

    [Fact]
    public void Text_counts_four_bytes_a_token_plus_four_a_message()
    {
        var info = Scan(ApiProtocol.Anthropic, $$$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"{{{new string('a', 4000)}}}"},{"role":"assistant","content":[{"type":"text","text":"{{{new string('b', 400)}}}"}]}]}""");
        Assert.Equal(4400, info.TextBytes);
        Assert.Equal(2 * 4 + 4400 / 4, info.EstimatedInputTokens);
    }

    [Fact]
    public void System_prompt_and_tools_count_by_their_bytes()
    {
        const string tools = """[{"name":"read","description":"Reads a file","input_schema":{"type":"object"}}]""";
        var info = Scan(ApiProtocol.Anthropic, $$$"""{"model":"m","system":"{{{new string('s', 798)}}}","tools":{{{tools}}},"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(tools.Length, info.ToolsBytes);
        // The system string with its quotes is 800 bytes, and counts as a message.
        Assert.Equal(2 * 4 + (2 + 800 + tools.Length + 3) / 4, info.EstimatedInputTokens);
    }

    [Fact]
    public void Base64_images_count_as_images_not_as_text()
    {
        var png = Convert.ToBase64String(new byte[30_000]);
        var anthropic = Scan(ApiProtocol.Anthropic, $$$"""
            {"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{png}}}"}},{"type":"text","text":"abcd"}]}]}
            """);
        Assert.Equal((1, 0, 4L), (anthropic.Images, anthropic.Files, anthropic.TextBytes));
        Assert.Equal(4 + 1600 + 1, anthropic.EstimatedInputTokens);

        var chat = Scan(ApiProtocol.OpenAIChat, $$$"""
            {"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{png}}}","detail":"high"}},{"type":"text","text":"abcd"}]}]}
            """);
        Assert.Equal((1, 0, 4L), (chat.Images, chat.Files, chat.TextBytes));

        var responses = Scan(ApiProtocol.OpenAIResponses, $$$"""
            {"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,{{{png}}}"},{"type":"input_file","file_id":"file-123"}]}]}
            """);
        Assert.Equal((1, 1, 0L), (responses.Images, responses.Files, responses.TextBytes));
    }

    [Fact]
    public void Gemini_inline_data_is_an_image_by_its_mime_type_else_a_file()
    {
        var png = Convert.ToBase64String(new byte[3000]);
        var info = Scan(ApiProtocol.Gemini, $$$"""
            {"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"{{{png}}}"}},{"inline_data":{"mime_type":"application/pdf","data":"{{{png}}}"}},{"text":"abcdabcd"}]}]}
            """);
        Assert.Equal((1, 1, 8L), (info.Images, info.Files, info.TextBytes));
        Assert.Equal(4 + 1600 + 3000 + 2, info.EstimatedInputTokens);
    }

    [Fact]
    public void Ids_signatures_and_tool_call_arguments()
    {
        var info = Scan(ApiProtocol.Anthropic, """
            {"model":"m","messages":[
              {"role":"assistant","content":[{"type":"thinking","thinking":"abcd","signature":"EqQBCkYIBRgCKkBsig"},{"type":"tool_use","id":"toolu_01","name":"read","input":{"path":"abcdefgh"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"abcdabcdabcd"}]}]}
            """);
        // thinking 4 + tool name 4 + argument 8 + result 12: no ids, no signature, no roles or types.
        Assert.Equal(28, info.TextBytes);
    }

    [Fact]
    public void A_recorded_Claude_Code_turn_is_estimated_from_its_text_tools_and_system()
    {
        var body = Kit.Fixture("anthropic-claude-code2.request.json");
        var info = RequestInspector.Inspect(ApiProtocol.Anthropic, body);
        // 72 KB of which the tools' JSON schemas and the system prompt are most: about a quarter token a byte.
        Assert.InRange(info.EstimatedInputTokens, body.Length / 5, body.Length / 3);
        Assert.True(info.ToolsBytes > body.Length / 2);
    }
}
