using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// Mock replies for embeddings and image generation in the providers' exact shapes: OpenAI `/embeddings` (float or
/// base64 float32 vectors, usage.prompt_tokens/total_tokens), OpenAI `/images/generations` (GPT image models:
/// b64_json plus token usage), Gemini `:embedContent` / `:batchEmbedContents` (`embedding.values` / `embeddings[].values`).
/// </summary>
public static class WireOperations
{
    /// <summary>Prompt tokens the mock reports per embedded input.</summary>
    public const int EmbeddingTokensPerInput = 7;
    public const int ImageInputTokens = 20;
    /// <summary>Output tokens per generated image (a 1024×1024 low-quality GPT image).</summary>
    public const int ImageOutputTokens = 272;
    public static readonly byte[] ImageBytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    /// <summary>A vector that names its input: exact in float32, so base64 round trips compare equal.</summary>
    public static float[] Vector(string text) => [text.Length / 8f, -0.25f, text.Length == 0 ? 0 : text[0] % 16 / 16f];

    public static MockUpstream.Reply? Reply(MockUpstream.Received req)
    {
        if (req.Path.EndsWith("/embeddings")) return OpenAIEmbeddings(req.Json);
        if (req.Path.EndsWith("/images/generations")) return Images(req.Json);
        if (req.Path.EndsWith(":embedContent")) return GeminiEmbed(req, batch: false);
        if (req.Path.EndsWith(":batchEmbedContents")) return GeminiEmbed(req, batch: true);
        return null;
    }

    private static MockUpstream.Reply OpenAIEmbeddings(JsonElement body)
    {
        var model = body.GetProperty("model").GetString()!;
        var input = body.GetProperty("input");
        var texts = input.ValueKind == JsonValueKind.String ? [input.GetString()!] : input.EnumerateArray().Select(e => e.GetString()!).ToList();
        var base64 = body.TryGetProperty("encoding_format", out var f) && f.GetString() == "base64";
        var sb = new StringBuilder("""{"object":"list","data":[""");
        for (var i = 0; i < texts.Count; i++)
        {
            if (i > 0) sb.Append(',');
            var v = Vector(texts[i]);
            var embedding = base64 ? Wire.J(Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan()))) : Floats(v);
            sb.Append($$"""{"object":"embedding","index":{{i}},"embedding":{{embedding}}}""");
        }
        var tokens = EmbeddingTokensPerInput * texts.Count;
        sb.Append($$"""],"model":{{Wire.J(model)}},"usage":{"prompt_tokens":{{tokens}},"total_tokens":{{tokens}}""").Append("}}");
        return new MockUpstream.Reply { Body = sb.ToString() };
    }

    private static MockUpstream.Reply Images(JsonElement body)
    {
        if (!body.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String)
            return new MockUpstream.Reply { Status = 400, Body = Wire.OpenAIError("Missing required parameter: 'prompt'.") };
        var n = body.TryGetProperty("n", out var nn) ? nn.GetInt32() : 1;
        var data = string.Join(",", Enumerable.Range(0, n).Select(_ => $$"""{"b64_json":{{Wire.J(Convert.ToBase64String(ImageBytes))}}}"""));
        var output = ImageOutputTokens * n;
        return new MockUpstream.Reply
        {
            Body = $$"""
                {"created":1713833628,"background":"opaque","data":[{{data}}],"output_format":"png","quality":"low","size":"1024x1024",
                 "usage":{"input_tokens":{{ImageInputTokens}},"input_tokens_details":{"image_tokens":0,"text_tokens":{{ImageInputTokens}}},"output_tokens":{{output}},"total_tokens":{{ImageInputTokens + output}} } }
                """,
        };
    }

    /// <summary>Like Gemini, refuses a batch whose requests name another model than the path.</summary>
    private static MockUpstream.Reply GeminiEmbed(MockUpstream.Received req, bool batch)
    {
        var pathModel = "models/" + req.Model;
        var body = req.Json;
        if (!batch) return new MockUpstream.Reply { Body = """{"embedding":{"values":""" + Floats(Vector(Text(body))) + "}}" };
        var values = new List<string>();
        foreach (var r in body.GetProperty("requests").EnumerateArray())
        {
            var m = r.TryGetProperty("model", out var mm) ? mm.GetString() : null;
            if (m != pathModel)
                return new MockUpstream.Reply { Status = 400, Body = Wire.GeminiError(400, $"Model names should match. Expected {pathModel}, got {m}.") };
            values.Add("""{"values":""" + Floats(Vector(Text(r))) + "}");
        }
        return new MockUpstream.Reply { Body = """{"embeddings":[""" + string.Join(",", values) + "]}" };
    }

    private static string Text(JsonElement request) =>
        string.Join("\n", request.GetProperty("content").GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("text").GetString()));

    private static string Floats(float[] v) => "[" + string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
