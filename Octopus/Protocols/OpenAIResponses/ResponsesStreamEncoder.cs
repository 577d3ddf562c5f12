using System.Buffers;
using System.Text;
using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.OpenAIResponses;

/// <summary>
/// Writes an OpenAI Responses SSE stream: response.created, response.in_progress, then per output item
/// output_item.added … deltas … output_item.done, and response.completed (or response.incomplete) with the full
/// response. Every event carries the next sequence_number.
/// </summary>
internal sealed class ResponsesStreamEncoder(ApiProtocol upstream, string clientModel) : StreamEncoder(upstream, clientModel)
{
    private enum Kind { Message, Reasoning, FunctionCall }

    private sealed class Item(Kind kind, string id, int outputIndex)
    {
        public Kind Kind { get; } = kind;
        public string Id { get; } = id;
        public int OutputIndex { get; } = outputIndex;
        public StringBuilder Text { get; } = new();
        // Message: finished content parts; the open part is Text with PartIsRefusal.
        public List<Part> Parts { get; } = [];
        public bool PartOpen { get; set; }
        public bool PartIsRefusal { get; set; }
        public string? Encrypted { get; set; }
        public string CallId { get; init; } = "";
        public string Name { get; init; } = "";
    }

    private readonly string _responseId = Ids.New("resp_");
    private readonly long _createdAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly List<byte[]> _done = [];
    private readonly Dictionary<int, Item> _calls = [];
    private readonly List<Item> _openCalls = [];
    private Item? _open;
    private long _sequence;
    private bool _started;

    protected override ApiProtocol ClientProtocol => ApiProtocol.OpenAIResponses;

    private Utf8JsonWriter Begin(string type)
    {
        var w = BeginEvent(type);
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteNumber("sequence_number", _sequence++);
        return w;
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        EndEvent();
    }

    private void EnsureStarted()
    {
        if (_started) return;
        _started = true;
        foreach (var type in (ReadOnlySpan<string>)["response.created", "response.in_progress"])
        {
            var w = Begin(type);
            w.WritePropertyName("response");
            ResponsesResponseCodec.WriteResponse(w, _responseId, _createdAt, ClientModel, StopReasons.EndTurn, true, [], null);
            End(w);
        }
    }

    public override void Start(string? id, string? model) => EnsureStarted();

    private Item OpenItem(Kind kind, string prefix, string callId = "", string name = "")
    {
        EnsureStarted();
        var item = new Item(kind, Ids.New(prefix), _done.Count + _openCalls.Count + (_open is null ? 0 : 1)) { CallId = callId, Name = name };
        var w = Begin("response.output_item.added");
        w.WriteNumber("output_index", item.OutputIndex);
        w.WritePropertyName("item");
        switch (kind)
        {
            case Kind.Message: ResponsesResponseCodec.WriteMessageItem(w, item.Id, "in_progress", []); break;
            case Kind.Reasoning: ResponsesResponseCodec.WriteReasoningItem(w, item.Id, "", null); break;
            case Kind.FunctionCall: ResponsesResponseCodec.WriteFunctionCallItem(w, item.Id, "in_progress", callId, name, ""); break;
        }
        End(w);
        return item;
    }

    /// <summary>Makes <paramref name="kind"/> the open item, closing whatever else is open.</summary>
    private Item Ensure(Kind kind, string prefix)
    {
        if (_open is { } open && open.Kind == kind && !(kind == Kind.Reasoning && open.Encrypted is not null)) return open;
        CloseAll();
        _open = OpenItem(kind, prefix);
        return _open;
    }

    private void CloseAll()
    {
        if (_open is not null)
        {
            CloseItem(_open);
            _open = null;
        }
        foreach (var call in _openCalls) CloseItem(call);
        _openCalls.Clear();
    }

    private void ItemEvent(string type, Item item, Action<Utf8JsonWriter> fields)
    {
        var w = Begin(type);
        w.WriteString("item_id", item.Id);
        w.WriteNumber("output_index", item.OutputIndex);
        fields(w);
        End(w);
    }

    // Deltas are most of a stream: their event header and names are encoded once, and no closure is allocated.
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText SequenceName = JsonEncodedText.Encode("sequence_number");
    private static readonly JsonEncodedText ItemIdName = JsonEncodedText.Encode("item_id");
    private static readonly JsonEncodedText OutputIndexName = JsonEncodedText.Encode("output_index");
    private static readonly JsonEncodedText ContentIndexName = JsonEncodedText.Encode("content_index");
    private static readonly JsonEncodedText SummaryIndexName = JsonEncodedText.Encode("summary_index");
    private static readonly JsonEncodedText DeltaName = JsonEncodedText.Encode("delta");
    private static readonly JsonEncodedText LogprobsName = JsonEncodedText.Encode("logprobs");
    private static readonly JsonEncodedText OutputTextDelta = JsonEncodedText.Encode("response.output_text.delta");
    private static readonly JsonEncodedText SummaryTextDelta = JsonEncodedText.Encode("response.reasoning_summary_text.delta");
    private static readonly JsonEncodedText ArgumentsDelta = JsonEncodedText.Encode("response.function_call_arguments.delta");

    private enum DeltaKind { OutputText, SummaryText, Arguments }

    /// <summary>The same bytes as <see cref="ItemEvent"/> with these delta fields.</summary>
    private void Delta(DeltaKind kind, Item item, int index, string delta)
    {
        Output.Write(kind switch
        {
            DeltaKind.OutputText => "event: response.output_text.delta\ndata: "u8,
            DeltaKind.SummaryText => "event: response.reasoning_summary_text.delta\ndata: "u8,
            _ => "event: response.function_call_arguments.delta\ndata: "u8,
        });
        var w = ValueWriter();
        w.WriteStartObject();
        w.WriteString(TypeName, kind switch { DeltaKind.OutputText => OutputTextDelta, DeltaKind.SummaryText => SummaryTextDelta, _ => ArgumentsDelta });
        w.WriteNumber(SequenceName, _sequence++);
        w.WriteString(ItemIdName, item.Id);
        w.WriteNumber(OutputIndexName, item.OutputIndex);
        if (kind == DeltaKind.OutputText) w.WriteNumber(ContentIndexName, index);
        else if (kind == DeltaKind.SummaryText) w.WriteNumber(SummaryIndexName, index);
        w.WriteString(DeltaName, delta);
        if (kind == DeltaKind.OutputText)
        {
            w.WriteStartArray(LogprobsName);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        EndEvent();
    }

    private void OpenPart(Item item, bool refusal)
    {
        item.PartOpen = true;
        item.PartIsRefusal = refusal;
        item.Text.Clear();
        ItemEvent("response.content_part.added", item, w =>
        {
            w.WriteNumber("content_index", item.Parts.Count);
            w.WritePropertyName("part");
            ResponsesResponseCodec.WriteContentPart(w, refusal ? new RefusalPart("") : new TextPart(""));
        });
    }

    private void ClosePart(Item item)
    {
        if (!item.PartOpen) return;
        var text = item.Text.ToString();
        Part part = item.PartIsRefusal ? new RefusalPart(text) : new TextPart(text);
        var index = item.Parts.Count;
        if (item.PartIsRefusal)
        {
            ItemEvent("response.refusal.done", item, w => { w.WriteNumber("content_index", index); w.WriteString("refusal", text); });
        }
        else
        {
            ItemEvent("response.output_text.done", item, w =>
            {
                w.WriteNumber("content_index", index);
                w.WriteString("text", text);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            });
        }
        ItemEvent("response.content_part.done", item, w =>
        {
            w.WriteNumber("content_index", index);
            w.WritePropertyName("part");
            ResponsesResponseCodec.WriteContentPart(w, part);
        });
        item.Parts.Add(part);
        item.PartOpen = false;
    }

    private void CloseItem(Item item)
    {
        switch (item.Kind)
        {
            case Kind.Message:
                ClosePart(item);
                break;
            case Kind.Reasoning:
            {
                if (Upstream != ApiProtocol.OpenAIResponses) item.Encrypted ??= Signatures.Tag(Upstream, null);
                var summary = item.Text.ToString();
                if (summary.Length > 0)
                {
                    ItemEvent("response.reasoning_summary_text.done", item, w => { w.WriteNumber("summary_index", 0); w.WriteString("text", summary); });
                    ItemEvent("response.reasoning_summary_part.done", item, w =>
                    {
                        w.WriteNumber("summary_index", 0);
                        w.WriteStartObject("part");
                        w.WriteString("type", "summary_text");
                        w.WriteString("text", summary);
                        w.WriteEndObject();
                    });
                }
                break;
            }
            case Kind.FunctionCall:
            {
                var args = item.Text.ToString();
                ItemEvent("response.function_call_arguments.done", item, w => w.WriteString("arguments", args));
                break;
            }
        }
        var bytes = JsonWrite.ToBytes(w =>
        {
            switch (item.Kind)
            {
                case Kind.Message: ResponsesResponseCodec.WriteMessageItem(w, item.Id, "completed", item.Parts); break;
                case Kind.Reasoning: ResponsesResponseCodec.WriteReasoningItem(w, item.Id, item.Text.ToString(), item.Encrypted); break;
                case Kind.FunctionCall: ResponsesResponseCodec.WriteFunctionCallItem(w, item.Id, "completed", item.CallId, item.Name, item.Text.ToString()); break;
            }
        });
        var done = Begin("response.output_item.done");
        done.WriteNumber("output_index", item.OutputIndex);
        done.WritePropertyName("item");
        done.WriteRawValue(bytes, skipInputValidation: true);
        End(done);
        _done.Add(bytes);
    }

    private void MessageText(string text, bool refusal)
    {
        var item = Ensure(Kind.Message, "msg_");
        if (item.PartOpen && item.PartIsRefusal != refusal) ClosePart(item);
        if (!item.PartOpen) OpenPart(item, refusal);
        item.Text.Append(text);
        if (!refusal)
        {
            Delta(DeltaKind.OutputText, item, item.Parts.Count, text);
            return;
        }
        ItemEvent("response.refusal.delta", item, w =>
        {
            w.WriteNumber("content_index", item.Parts.Count);
            w.WriteString("delta", text);
        });
    }

    public override void Text(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        MessageText(text, false);
    }

    public override void Refusal(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        MessageText(text, true);
    }

    public override void Thinking(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        var item = Ensure(Kind.Reasoning, "rs_");
        if (item.Text.Length == 0)
        {
            ItemEvent("response.reasoning_summary_part.added", item, w =>
            {
                w.WriteNumber("summary_index", 0);
                w.WriteStartObject("part");
                w.WriteString("type", "summary_text");
                w.WriteString("text", "");
                w.WriteEndObject();
            });
        }
        item.Text.Append(text);
        Delta(DeltaKind.SummaryText, item, 0, text);
    }

    public override void ThinkingSignature(string signature)
    {
        var item = Ensure(Kind.Reasoning, "rs_");
        item.Encrypted = Signatures.ForClient(ApiProtocol.OpenAIResponses, Upstream, signature);
    }

    public override void RedactedThinking(string data)
    {
        ContentSeen = true;
        var item = Ensure(Kind.Reasoning, "rs_");
        item.Encrypted = Signatures.Tag(Upstream, data, redacted: true);
        CloseAll();
    }

    public override void ToolCallStart(int key, string id, string name, string? thoughtSignature)
    {
        ContentSeen = true;
        SawToolCall = true;
        // Calls stay open together until something else arrives, so interleaved argument deltas find their call.
        if (_open is not null) { CloseItem(_open); _open = null; }
        if (thoughtSignature is not null)
        {
            CloseAll();
            var carrier = OpenItem(Kind.Reasoning, "rs_");
            carrier.Encrypted = Signatures.Tag(ApiProtocol.Gemini, thoughtSignature);
            CloseItem(carrier);
        }
        var call = OpenItem(Kind.FunctionCall, "fc_", id, name);
        _openCalls.Add(call);
        _calls[key] = call;
    }

    public override void ToolCallArguments(int key, string fragment)
    {
        if (fragment.Length == 0 || !_calls.TryGetValue(key, out var call) || !_openCalls.Contains(call)) return;
        ContentSeen = true;
        call.Text.Append(fragment);
        Delta(DeltaKind.Arguments, call, 0, fragment);
    }

    public override void BlockEnd()
    {
        if (_open is not null)
        {
            CloseItem(_open);
            _open = null;
        }
    }

    protected override void WriteCompletion()
    {
        EnsureStarted();
        CloseAll();
        var stop = FinalStopReason();
        var incomplete = stop is StopReasons.MaxTokens or StopReasons.ContentFilter or StopReasons.Refusal;
        var type = incomplete ? "response.incomplete" : "response.completed";
        var w = Begin(type);
        w.WritePropertyName("response");
        ResponsesResponseCodec.WriteResponse(w, _responseId, _createdAt, ClientModel, stop, false, _done, CurrentUsage);
        End(w);
    }

    protected override void WriteFailure(int status, string message) =>
        ProtocolErrors.WriteStreamEvent(Output, ApiProtocol.OpenAIResponses, status, message, _sequence++, _responseId, ClientModel);
}
