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
            Delta(_openIndex, "signature_delta", "signature", Signatures.Tag(Upstream, null));
        var w = BeginEvent("content_block_stop");
        w.WriteStartObject();
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", _openIndex);
        w.WriteEndObject();
        EndEvent();
        _open = Block.None;
    }

    private void Delta(int index, string deltaType, string field, string value)
    {
        var w = BeginEvent("content_block_delta");
        w.WriteStartObject();
        w.WriteString("type", "content_block_delta");
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("type", deltaType);
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
        Delta(_openIndex, "text_delta", "text", text);
    }

    public override void Refusal(string text) => Text(text);

    public override void Thinking(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        if (_open != Block.Thinking || _signed) Open(Block.Thinking, ThinkingBlockStart);
        Delta(_openIndex, "thinking_delta", "thinking", text);
    }

    public override void ThinkingSignature(string signature)
    {
        // A signature may arrive with no thinking text at all (Gemini): it still gets a block of its own.
        if (_open != Block.Thinking || _signed) Open(Block.Thinking, ThinkingBlockStart);
        Delta(_openIndex, "signature_delta", "signature", Signatures.ForClient(ApiProtocol.Anthropic, Upstream, signature)!);
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
        Delta(_openIndex, "signature_delta", "signature", Signatures.Tag(Upstream, data, redacted: true));
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
            Delta(_openIndex, "signature_delta", "signature", Signatures.Tag(ApiProtocol.Gemini, thoughtSignature));
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
        Delta(index, "input_json_delta", "partial_json", fragment);
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
