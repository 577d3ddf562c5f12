using System.Buffers;
using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.OpenAIChat;

/// <summary>
/// Writes an OpenAI Chat Completions chunk stream: a role chunk, content / reasoning_content / tool_calls deltas,
/// a final chunk with finish_reason and usage, then `data: [DONE]`.
/// </summary>
internal sealed class OpenAIChatStreamEncoder(ApiProtocol upstream, string clientModel) : StreamEncoder(upstream, clientModel)
{
    private readonly string _id = Ids.New("chatcmpl-");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly Dictionary<int, int> _toolIndex = [];
    private bool _started;

    protected override ApiProtocol ClientProtocol => ApiProtocol.OpenAIChat;

    private Utf8JsonWriter BeginChunk()
    {
        var w = BeginEvent(null);
        WriteChunkStart(w);
        w.WriteStartObject();
        return w;
    }

    /// <summary>A chunk up to its delta's value: the same for every chunk of the stream.</summary>
    private void WriteChunkStart(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", _id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", _created);
        w.WriteString("model", ClientModel);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WritePropertyName("delta");
    }

    private void EndChunk(Utf8JsonWriter w, string? finishReason = null, bool withUsage = false)
    {
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.StringOrNull("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (withUsage) OpenAIChatResponseCodec.WriteUsage(w, CurrentUsage);
        w.WriteEndObject();
        EndEvent();
    }

    private void EnsureStarted()
    {
        if (_started) return;
        _started = true;
        var w = BeginChunk();
        w.WriteString("role", "assistant");
        w.WriteString("content", "");
        EndChunk(w);
    }

    public override void Start(string? id, string? model) => EnsureStarted();

    private byte[]? _deltaPrefix;
    private static readonly JsonEncodedText ContentField = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText ReasoningField = JsonEncodedText.Encode("reasoning_content");
    private static readonly JsonEncodedText RefusalField = JsonEncodedText.Encode("refusal");

    /// <summary>What <see cref="EndChunk"/> writes after a delta without finish reason or usage.</summary>
    private static ReadOnlySpan<byte> DeltaSuffix => ",\"logprobs\":null,\"finish_reason\":null}]}\n\n"u8;

    /// <summary>
    /// A text delta is most of a stream: the chunk's fixed start (id, model, created: the same for every chunk) is
    /// written once and copied, and only the delta goes through the writer. Same bytes as BeginChunk/EndChunk.
    /// </summary>
    private void StringDelta(JsonEncodedText field, string value)
    {
        EnsureStarted();
        Output.Write(_deltaPrefix ??= DeltaPrefix());
        var w = ValueWriter();
        w.WriteStartObject();
        w.WriteString(field, value);
        w.WriteEndObject();
        w.Flush();
        Output.Write(DeltaSuffix);
    }

    private byte[] DeltaPrefix()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, Canonical.JsonWrite.Options)) WriteChunkStart(w);
        return buffer.WrittenSpan.ToArray();
    }

    public override void Text(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        StringDelta(ContentField, text);
    }

    public override void Thinking(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        StringDelta(ReasoningField, text);
    }

    // Chat Completions has no field for reasoning signatures; they cannot travel to this client.
    public override void ThinkingSignature(string signature) { }

    public override void RedactedThinking(string data) { }

    public override void Refusal(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        StringDelta(RefusalField, text);
    }

    public override void ToolCallStart(int key, string id, string name, string? thoughtSignature)
    {
        ContentSeen = true;
        SawToolCall = true;
        EnsureStarted();
        var index = _toolIndex.Count;
        _toolIndex[key] = index;
        var w = BeginChunk();
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteString("id", id);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", name);
        w.WriteString("arguments", "");
        w.WriteEndObject();
        OpenAIChatRequestCodec.WriteGoogleSignature(w, thoughtSignature);
        w.WriteEndObject();
        w.WriteEndArray();
        EndChunk(w);
    }

    public override void ToolCallArguments(int key, string fragment)
    {
        if (fragment.Length == 0 || !_toolIndex.TryGetValue(key, out var index)) return;
        ContentSeen = true;
        var w = BeginChunk();
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("function");
        w.WriteString("arguments", fragment);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        EndChunk(w);
    }

    public override void BlockEnd() { }

    protected override void WriteCompletion()
    {
        EnsureStarted();
        var w = BeginChunk();
        EndChunk(w, StopReasons.ToOpenAI(FinalStopReason()), withUsage: true);
        Output.Write("data: [DONE]\n\n"u8);
    }
}
