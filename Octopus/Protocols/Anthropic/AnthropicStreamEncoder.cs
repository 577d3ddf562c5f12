using System.Buffers;
using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Anthropic;

/// <summary>
/// Writes an Anthropic Messages SSE stream: message_start, one content block at a time (start, deltas, stop),
/// then message_delta with stop reason and usage, and message_stop.
/// </summary>
internal sealed class AnthropicStreamEncoder(ApiProtocol upstream, string clientModel) : StreamEncoder(upstream, clientModel)
{
    private enum Block { None, Text, Thinking, Tool }

    private readonly string _id = Ids.New("msg_");
    private readonly Dictionary<int, int> _toolIndex = [];
    private bool _started;
    private int _nextIndex;
    private Block _open;
    private int _openIndex;
    private bool _signed;

    protected override ApiProtocol ClientProtocol => ApiProtocol.Anthropic;

    public override void Start(string? id, string? model) => EnsureStarted();

    private void EnsureStarted()
    {
        if (_started) return;
        _started = true;
        var w = BeginEvent("message_start");
        w.WriteStartObject();
        w.WriteString("type", "message_start");
        w.WriteStartObject("message");
        w.WriteString("id", _id);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", ClientModel);
        w.WriteStartArray("content");
        w.WriteEndArray();
        w.WriteNull("stop_reason");
        w.WriteNull("stop_sequence");
        var u = CurrentUsage;
        u.OutputTokens = 0;
        AnthropicResponseCodec.WriteUsage(w, u);
        w.WriteEndObject();
        w.WriteEndObject();
        EndEvent();
    }

    private void Open(Block kind, Action<Utf8JsonWriter> writeBlock)
    {
        EnsureStarted();
        Close();
        _open = kind;
        _openIndex = _nextIndex++;
        _signed = false;
        var w = BeginEvent("content_block_start");
        w.WriteStartObject();
        w.WriteString("type", "content_block_start");
        w.WriteNumber("index", _openIndex);
        w.WritePropertyName("content_block");
        writeBlock(w);
        w.WriteEndObject();
        EndEvent();
    }

    private void Close()
    {
        if (_open == Block.None) return;
        // Every thinking block ends signed so the client sends it back and the next turn knows where it came from.
        if (_open == Block.Thinking && !_signed && Upstream != ApiProtocol.Anthropic)
            Delta(_openIndex, SignatureDelta, SignatureField, Signatures.Tag(Upstream, null));
        var w = BeginEvent("content_block_stop");
        w.WriteStartObject();
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", _openIndex);
        w.WriteEndObject();
        EndEvent();
        _open = Block.None;
    }

    // Deltas are most of a stream: their names are encoded once.
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText IndexName = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText DeltaName = JsonEncodedText.Encode("delta");
    private static readonly JsonEncodedText ContentBlockDelta = JsonEncodedText.Encode("content_block_delta");
    private static readonly JsonEncodedText TextDelta = JsonEncodedText.Encode("text_delta");
    private static readonly JsonEncodedText TextField = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText ThinkingDelta = JsonEncodedText.Encode("thinking_delta");
    private static readonly JsonEncodedText ThinkingField = JsonEncodedText.Encode("thinking");
    private static readonly JsonEncodedText SignatureDelta = JsonEncodedText.Encode("signature_delta");
    private static readonly JsonEncodedText SignatureField = JsonEncodedText.Encode("signature");
    private static readonly JsonEncodedText InputJsonDelta = JsonEncodedText.Encode("input_json_delta");
    private static readonly JsonEncodedText PartialJsonField = JsonEncodedText.Encode("partial_json");

    private void Delta(int index, JsonEncodedText deltaType, JsonEncodedText field, string value)
    {
        Output.Write("event: content_block_delta\ndata: "u8);
        var w = ValueWriter();
        w.WriteStartObject();
        w.WriteString(TypeName, ContentBlockDelta);
        w.WriteNumber(IndexName, index);
        w.WriteStartObject(DeltaName);
        w.WriteString(TypeName, deltaType);
        w.WriteString(field, value);
        w.WriteEndObject();
        w.WriteEndObject();
        EndEvent();
    }

    private static void TextBlockStart(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", "");
        w.WriteEndObject();
    }

    private static void ThinkingBlockStart(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "thinking");
        w.WriteString("thinking", "");
        w.WriteString("signature", "");
        w.WriteEndObject();
    }

    public override void Text(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        if (_open != Block.Text) Open(Block.Text, TextBlockStart);
        Delta(_openIndex, TextDelta, TextField, text);
    }

    public override void Refusal(string text) => Text(text);

    public override void Thinking(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        if (_open != Block.Thinking || _signed) Open(Block.Thinking, ThinkingBlockStart);
        Delta(_openIndex, ThinkingDelta, ThinkingField, text);
    }

    public override void ThinkingSignature(string signature)
    {
        // A signature may arrive with no thinking text at all (Gemini): it still gets a block of its own.
        if (_open != Block.Thinking || _signed) Open(Block.Thinking, ThinkingBlockStart);
        Delta(_openIndex, SignatureDelta, SignatureField, Signatures.ForClient(ApiProtocol.Anthropic, Upstream, signature)!);
        _signed = true;
    }

    public override void RedactedThinking(string data)
    {
        ContentSeen = true;
        if (Upstream == ApiProtocol.Anthropic)
        {
            Open(Block.Thinking, w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "redacted_thinking");
                w.WriteString("data", data);
                w.WriteEndObject();
            });
            _signed = true;
            Close();
            return;
        }
        Open(Block.Thinking, ThinkingBlockStart);
        Delta(_openIndex, SignatureDelta, SignatureField, Signatures.Tag(Upstream, data, redacted: true));
        _signed = true;
        Close();
    }

    public override void ToolCallStart(int key, string id, string name, string? thoughtSignature)
    {
        ContentSeen = true;
        SawToolCall = true;
        if (thoughtSignature is not null)
        {
            Open(Block.Thinking, ThinkingBlockStart);
            Delta(_openIndex, SignatureDelta, SignatureField, Signatures.Tag(ApiProtocol.Gemini, thoughtSignature));
            _signed = true;
        }
        Open(Block.Tool, w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", id);
            w.WriteString("name", name);
            w.WriteStartObject("input");
            w.WriteEndObject();
            w.WriteEndObject();
        });
        _toolIndex[key] = _openIndex;
    }

    public override void ToolCallArguments(int key, string fragment)
    {
        if (fragment.Length == 0 || !_toolIndex.TryGetValue(key, out var index)) return;
        ContentSeen = true;
        // Deltas go to the call's own block index, so interleaved upstream calls stay attached to the right call.
        Delta(index, InputJsonDelta, PartialJsonField, fragment);
    }

    public override void BlockEnd() => Close();

    protected override void WriteCompletion()
    {
        EnsureStarted();
        Close();
        var w = BeginEvent("message_delta");
        w.WriteStartObject();
        w.WriteString("type", "message_delta");
        w.WriteStartObject("delta");
        w.WriteString("stop_reason", StopReasons.ToAnthropic(FinalStopReason()));
        w.WriteNull("stop_sequence");
        w.WriteEndObject();
        AnthropicResponseCodec.WriteUsage(w, CurrentUsage);
        w.WriteEndObject();
        EndEvent();
        w = BeginEvent("message_stop");
        w.WriteStartObject();
        w.WriteString("type", "message_stop");
        w.WriteEndObject();
        EndEvent();
    }
}
