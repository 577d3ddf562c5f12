using System.Text.Json;
using Octopus.Protocols;
using Octopus.Protocols.Conversion;

namespace Octopus.Tests.Protocols;

/// <summary>
/// Coding agents resend the whole conversation every turn; upstream prompt caches only hit when the converted prefix
/// is byte-identical from one turn to the next (issue 12).
/// </summary>
public sealed class PromptCacheStabilityTests
{
    /// <summary>Turn N of a real Claude Code conversation: the first <paramref name="count"/> messages.</summary>
    private static byte[] Turn(int count)
    {
        var root = Kit.Json(Kit.Fixture("anthropic-claude-code2.request.json"));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name != "messages")
                {
                    p.WriteTo(w);
                    continue;
                }
                w.WriteStartArray("messages");
                foreach (var m in p.Value.EnumerateArray().Take(count)) m.WriteTo(w);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void AssertPrefix(JsonElement earlier, JsonElement later)
    {
        Assert.True(later.GetArrayLength() > earlier.GetArrayLength());
        for (var i = 0; i < earlier.GetArrayLength(); i++) Assert.Equal(earlier[i].GetRawText(), later[i].GetRawText());
    }

    [Fact]
    public void Growing_Claude_Code_conversation_converts_to_a_byte_identical_OpenAI_Chat_prefix()
    {
        var options = Kit.Options("deepseek-chat") with { ConversationId = "conv-42" };
        var n = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, Turn(6), options));
        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, Turn(8), options));

        AssertPrefix(n.GetProperty("messages"), next.GetProperty("messages"));
        Assert.Equal("system", n.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal(n.GetProperty("tools").GetRawText(), next.GetProperty("tools").GetRawText());
        Assert.Equal(n.GetProperty("prompt_cache_key").GetString(), next.GetProperty("prompt_cache_key").GetString());
    }

    [Fact]
    public void Growing_conversation_converts_to_a_byte_identical_Responses_prefix()
    {
        var n = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, Turn(6), Kit.Options("gpt-5")));
        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIResponses, Turn(8), Kit.Options("gpt-5")));
        AssertPrefix(n.GetProperty("input"), next.GetProperty("input"));
        Assert.Equal(n.GetProperty("instructions").GetString(), next.GetProperty("instructions").GetString());
        Assert.Equal(n.GetProperty("tools").GetRawText(), next.GetProperty("tools").GetRawText());
    }

    [Fact]
    public void Growing_conversation_converts_to_a_byte_identical_Gemini_prefix()
    {
        var n = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, Turn(6), Kit.Options("gemini-2.5-pro")));
        var next = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.Gemini, Turn(8), Kit.Options("gemini-2.5-pro")));
        AssertPrefix(n.GetProperty("contents"), next.GetProperty("contents"));
        Assert.Equal(n.GetProperty("systemInstruction").GetRawText(), next.GetProperty("systemInstruction").GetRawText());
        Assert.Equal(n.GetProperty("tools").GetRawText(), next.GetProperty("tools").GetRawText());
    }

    [Fact]
    public void Tool_schemas_are_written_through_verbatim_with_their_key_order()
    {
        var root = Kit.Json(Kit.Fixture("anthropic-claude-code.request.json"));
        var converted = Kit.Json(Converter.ConvertRequest(ApiProtocol.Anthropic, ApiProtocol.OpenAIChat, Kit.Fixture("anthropic-claude-code.request.json"), Kit.Options()));
        var source = root.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("input_schema").GetRawText()).ToList();
        var target = converted.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("parameters").GetRawText()).ToList();
        Assert.Equal(source, target);
    }

    [Fact]
    public void Same_request_converts_to_the_same_bytes_every_time()
    {
        foreach (var from in Kit.All)
        {
            if (from == ApiProtocol.Anthropic) continue;
            var body = Converter.ConvertRequest(ApiProtocol.Anthropic, from, Turn(8), Kit.Options());
            foreach (var to in Kit.All)
            {
                if (to == from) continue;
                Assert.Equal(Converter.ConvertRequest(from, to, body, Kit.Options()), Converter.ConvertRequest(from, to, body, Kit.Options()));
            }
        }
    }
}
