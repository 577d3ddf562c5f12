using System.Buffers;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Anthropic;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Gemini;
using Octopus.Protocols.OpenAIChat;
using Octopus.Protocols.OpenAIResponses;
using Octopus.Protocols.Sse;

namespace Octopus.Tests.Protocols;

/// <summary>Builds bodies and streams in any protocol and reads them back, so conversion tests can assert semantics.</summary>
internal static class Kit
{
    public static readonly ApiProtocol[] All = [ApiProtocol.OpenAIChat, ApiProtocol.OpenAIResponses, ApiProtocol.Anthropic, ApiProtocol.Gemini];

    /// <summary>Every (client, upstream) pair as wire names, for theories.</summary>
    public static IEnumerable<object[]> Pairs()
    {
        foreach (var c in All)
            foreach (var u in All)
                yield return [c.ToWire(), u.ToWire()];
    }

    /// <summary>Pairs that really go through conversion (different protocols).</summary>
    public static IEnumerable<object[]> CrossPairs()
    {
        foreach (var c in All)
            foreach (var u in All)
                if (c != u) yield return [c.ToWire(), u.ToWire()];
    }

    public static ApiProtocol P(string wire) => ApiProtocols.TryParse(wire, out var p) ? p : throw new ArgumentException(wire);

    public static ConversionOptions Options(string model = "up-model", bool stream = false, ChannelType type = ChannelType.OpenAI) =>
        new() { UpstreamModel = model, Stream = stream, ChannelType = type };

    public static byte[] EncodeRequest(ApiProtocol p, ChatRequest req, ConversionOptions? options = null)
    {
        options ??= Options("client-model");
        return p switch
        {
            ApiProtocol.OpenAIChat => OpenAIChatRequestCodec.Encode(req, options),
            ApiProtocol.OpenAIResponses => ResponsesRequestCodec.Encode(req, options),
            ApiProtocol.Anthropic => AnthropicRequestCodec.Encode(req, options),
            _ => GeminiRequestCodec.Encode(req, options),
        };
    }

    public static ChatRequest DecodeRequest(ApiProtocol p, byte[] body) => Converter.DecodeRequest(p, body);

    /// <summary>A native upstream response body for <paramref name="p"/>.</summary>
    public static byte[] EncodeResponse(ApiProtocol p, ChatResponse resp) => p switch
    {
        ApiProtocol.OpenAIChat => OpenAIChatResponseCodec.Encode(resp, p, "up-model"),
        ApiProtocol.OpenAIResponses => ResponsesResponseCodec.Encode(resp, p, "up-model"),
        ApiProtocol.Anthropic => AnthropicResponseCodec.Encode(resp, p, "up-model"),
        _ => GeminiResponseCodec.Encode(resp, p, "up-model"),
    };

    public static ChatResponse DecodeResponse(ApiProtocol p, byte[] body) => p switch
    {
        ApiProtocol.OpenAIChat => OpenAIChatResponseCodec.Decode(body),
        ApiProtocol.OpenAIResponses => ResponsesResponseCodec.Decode(body),
        ApiProtocol.Anthropic => AnthropicResponseCodec.Decode(body),
        _ => GeminiResponseCodec.Decode(body),
    };

    public static StreamEncoder Encoder(ApiProtocol client, ApiProtocol upstream, string model = "up-model") => client switch
    {
        ApiProtocol.OpenAIChat => new OpenAIChatStreamEncoder(upstream, model),
        ApiProtocol.OpenAIResponses => new ResponsesStreamEncoder(upstream, model),
        ApiProtocol.Anthropic => new AnthropicStreamEncoder(upstream, model),
        _ => new GeminiStreamEncoder(upstream, model),
    };

    public static IStreamDecoder Decoder(ApiProtocol p) => p switch
    {
        ApiProtocol.OpenAIChat => new OpenAIChatStreamDecoder(),
        ApiProtocol.OpenAIResponses => new ResponsesStreamDecoder(),
        ApiProtocol.Anthropic => new AnthropicStreamDecoder(),
        _ => new GeminiStreamDecoder(),
    };

    /// <summary>A native stream of protocol <paramref name="p"/> produced from a canonical event script.</summary>
    public static byte[] NativeStream(ApiProtocol p, Action<IStreamSink> script, bool complete = true)
    {
        var enc = Encoder(p, p);
        var buffer = new ArrayBufferWriter<byte>();
        enc.Bind(buffer);
        script(enc);
        if (complete) enc.Complete();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Splits SSE bytes into events; asserts the framing leaves nothing half-written.</summary>
    public static List<SseEvent> ParseSse(byte[] bytes)
    {
        var seq = new ReadOnlySequence<byte>(bytes);
        var events = new List<SseEvent>();
        while (SseParser.TryRead(ref seq, out var ev)) events.Add(ev);
        Assert.True(seq.IsEmpty, "SSE output ends with an incomplete event: " + Encoding.UTF8.GetString(seq.ToArray()));
        return events;
    }

    public static byte[] Sse(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Feeds upstream SSE through a transcoder and returns the client SSE.</summary>
    public static byte[] Transcode(ApiProtocol upstream, ApiProtocol client, byte[] upstreamSse, out IStreamTranscoder transcoder,
        bool complete = true, string clientModel = "client-model")
    {
        transcoder = Converter.CreateStreamTranscoder(upstream, client, clientModel);
        var output = new ArrayBufferWriter<byte>();
        foreach (var ev in ParseSse(upstreamSse)) transcoder.OnEvent(ev, output);
        if (complete) transcoder.Complete(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads a stream back with the protocol's own decoder; checks every data payload is JSON.</summary>
    public static Collected ReadStream(ApiProtocol p, byte[] sse)
    {
        var sink = new Collected();
        var decoder = Decoder(p);
        foreach (var ev in ParseSse(sse))
        {
            if (!ev.HasData) continue;
            if (!ev.IsDone) using (JsonDocument.Parse(ev.Data)) { }
            decoder.OnEvent(ev, sink);
        }
        return sink;
    }

    /// <summary>Replays a recorded `*.stream.jsonl` fixture as SSE bytes.</summary>
    public static byte[] Fixture(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "recorded", name);
        if (!name.EndsWith(".jsonl", StringComparison.Ordinal)) return File.ReadAllBytes(path);
        var sb = new StringBuilder();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var type = doc.RootElement.GetProperty("Type").GetString();
            if (!string.IsNullOrEmpty(type)) sb.Append("event: ").Append(type).Append('\n');
            sb.Append("data: ").Append(doc.RootElement.GetProperty("Data").GetString()).Append("\n\n");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static string Str(byte[] b) => Encoding.UTF8.GetString(b);

    public static JsonElement Json(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public static JsonElement Json(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public static bool JsonEquals(string a, string b) =>
        JsonSerializerCompact(Json(a)) == JsonSerializerCompact(Json(b));

    private static string JsonSerializerCompact(JsonElement e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) e.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // ---- canonical builders ----

    public static Message Msg(Role role, params Part[] parts)
    {
        var m = new Message(role);
        m.Parts.AddRange(parts);
        return m;
    }

    public static ToolResultPart Result(string callId, string text, bool isError = false, string? name = null)
    {
        var r = new ToolResultPart { CallId = callId, IsError = isError, Name = name };
        r.Content.Add(new TextPart(text));
        return r;
    }

    public const string WeatherSchema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"City name\"}},\"required\":[\"city\"]}";

    public static ToolDefinition WeatherTool() => new() { Name = "get_weather", Description = "Weather for a city", Parameters = WeatherSchema };

    public static ChatRequest Request(params Message[] messages)
    {
        var r = new ChatRequest();
        r.Messages.AddRange(messages);
        return r;
    }

    public static IEnumerable<T> PartsOf<T>(ChatRequest req, Role? role = null) where T : Part =>
        req.Messages.Where(m => role is null || m.Role == role).SelectMany(m => m.Parts).OfType<T>();

    public static string TextOf(Message m) => string.Concat(m.Parts.OfType<TextPart>().Select(t => t.Text));
}

/// <summary>Aggregates a canonical event stream, as a client SDK would.</summary>
internal sealed class Collected : IStreamSink
{
    public sealed class Call
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public string? Signature { get; init; }
        public StringBuilder Args { get; } = new();
    }

    public StringBuilder Text { get; } = new();
    public StringBuilder Thinking { get; } = new();
    public StringBuilder Refusal { get; } = new();
    public List<string> Signatures { get; } = [];
    public List<string> Redacted { get; } = [];
    public List<Call> Calls { get; } = [];
    private readonly Dictionary<int, Call> _byKey = [];
    public Usage Usage;
    public string? Stop { get; private set; }
    public (int Status, string Message)? Error { get; private set; }
    public int Starts { get; private set; }
    /// <summary>Order of content kinds as they first appeared (t=text, k=thinking, s=signature, c=call).</summary>
    public StringBuilder Order { get; } = new();

    private void Mark(char c)
    {
        if (Order.Length == 0 || Order[^1] != c) Order.Append(c);
    }

    void IStreamSink.Start(string? id, string? model) => Starts++;
    void IStreamSink.Text(string text) { Mark('t'); Text.Append(text); }
    void IStreamSink.Thinking(string text) { Mark('k'); Thinking.Append(text); }
    void IStreamSink.ThinkingSignature(string signature) { Mark('s'); Signatures.Add(signature); }
    void IStreamSink.RedactedThinking(string data) => Redacted.Add(data);
    void IStreamSink.ToolCallStart(int key, string id, string name, string? thoughtSignature)
    {
        Mark('c');
        var call = new Call { Id = id, Name = name, Signature = thoughtSignature };
        _byKey[key] = call;
        Calls.Add(call);
    }
    void IStreamSink.ToolCallArguments(int key, string fragment) => _byKey[key].Args.Append(fragment);
    void IStreamSink.Refusal(string text) => Refusal.Append(text);
    void IStreamSink.BlockEnd() { }
    void IStreamSink.Usage(in Usage usage)
    {
        if (usage.InputTokens != 0) Usage.InputTokens = usage.InputTokens;
        if (usage.OutputTokens != 0) Usage.OutputTokens = usage.OutputTokens;
        if (usage.CacheReadTokens != 0) Usage.CacheReadTokens = usage.CacheReadTokens;
        if (usage.CacheWriteTokens != 0) Usage.CacheWriteTokens = usage.CacheWriteTokens;
        if (usage.ReasoningTokens != 0) Usage.ReasoningTokens = usage.ReasoningTokens;
    }
    void IStreamSink.Finish(string stopReason) => Stop = stopReason;
    void IStreamSink.Error(int status, string message) => Error = (status, message);
}
