using System.Text;
using System.Text.Json;
using Octopus.Protocols.Canonical;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Gemini;

/// <summary>
/// Writes a Gemini SSE stream (`data: {GenerateContentResponse}` per event). Text and thoughts go out as they come;
/// a function call goes out whole once its arguments are complete, since Gemini parts carry `args` as one object.
/// </summary>
internal sealed class GeminiStreamEncoder(ApiProtocol upstream, string clientModel) : StreamEncoder(upstream, clientModel)
{
    private sealed class PendingCall(string id, string name, string? signature)
    {
        public string Id { get; } = id;
        public string Name { get; } = name;
        public string? Signature { get; } = signature;
        public StringBuilder Arguments { get; } = new();
    }

    private readonly string _responseId = Ids.New("");
    private readonly Dictionary<int, PendingCall> _calls = [];
    private readonly List<PendingCall> _pending = [];
    private bool _thinkingUnsigned;

    protected override ApiProtocol ClientProtocol => ApiProtocol.Gemini;

    public override void Start(string? id, string? model) { }

    private void Chunk(Action<Utf8JsonWriter>? writeParts, string? finishReason = null)
    {
        var w = BeginEvent(null);
        w.WriteStartObject();
        w.WriteStartArray("candidates");
        w.WriteStartObject();
        w.WriteStartObject("content");
        w.WriteString("role", "model");
        w.WriteStartArray("parts");
        writeParts?.Invoke(w);
        w.WriteEndArray();
        w.WriteEndObject();
        if (finishReason is not null) w.WriteString("finishReason", finishReason);
        w.WriteNumber("index", 0);
        w.WriteEndObject();
        w.WriteEndArray();
        GeminiJson.WriteUsage(w, CurrentUsage);
        w.WriteString("modelVersion", ClientModel);
        w.WriteString("responseId", _responseId);
        w.WriteEndObject();
        EndEvent();
    }

    public override void Text(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        EndThinking();
        FlushCalls();
        Chunk(w =>
        {
            w.WriteStartObject();
            w.WriteString("text", text);
            w.WriteEndObject();
        });
    }

    public override void Refusal(string text) => Text(text);

    public override void Thinking(string text)
    {
        if (text.Length == 0) return;
        ContentSeen = true;
        FlushCalls();
        _thinkingUnsigned = true;
        Chunk(w =>
        {
            w.WriteStartObject();
            w.WriteString("text", text);
            w.WriteBoolean("thought", true);
            w.WriteEndObject();
        });
    }

    /// <summary>A thought run from a foreign upstream ends with a tagged signature part, so the client's next turn
    /// tells us where its thoughts came from (an OpenAI-compatible upstream takes them back as reasoning_content).</summary>
    private void EndThinking()
    {
        if (!_thinkingUnsigned) return;
        _thinkingUnsigned = false;
        if (Upstream != ApiProtocol.Gemini) SignaturePart(Signatures.Tag(Upstream, null));
    }

    public override void ThinkingSignature(string signature) => SignaturePart(Signatures.ForClient(ApiProtocol.Gemini, Upstream, signature)!);

    public override void RedactedThinking(string data)
    {
        ContentSeen = true;
        SignaturePart(Signatures.Tag(Upstream, data, redacted: true));
    }

    private void SignaturePart(string tagged)
    {
        _thinkingUnsigned = false;
        FlushCalls();
        Chunk(w =>
        {
            w.WriteStartObject();
            w.WriteString("text", "");
            w.WriteBoolean("thought", true);
            w.WriteString("thoughtSignature", tagged);
            w.WriteEndObject();
        });
    }

    public override void ToolCallStart(int key, string id, string name, string? thoughtSignature)
    {
        ContentSeen = true;
        SawToolCall = true;
        EndThinking();
        var call = new PendingCall(id, name, thoughtSignature);
        _calls[key] = call;
        _pending.Add(call);
    }

    public override void ToolCallArguments(int key, string fragment)
    {
        if (fragment.Length == 0 || !_calls.TryGetValue(key, out var call)) return;
        ContentSeen = true;
        call.Arguments.Append(fragment);
    }

    public override void BlockEnd() { }

    /// <summary>Calls go out together once something else starts or the stream ends (parallel calls stay one chunk).</summary>
    private void FlushCalls(string? finishReason = null)
    {
        if (_pending.Count == 0) return;
        var calls = _pending.ToArray();
        _pending.Clear();
        Chunk(w =>
        {
            foreach (var c in calls) GeminiResponseCodec.WriteFunctionCall(w, c.Id, c.Name, c.Arguments.ToString(), c.Signature);
        }, finishReason);
    }

    protected override void WriteCompletion()
    {
        EndThinking();
        var finish = StopReasons.ToGemini(FinalStopReason());
        if (_pending.Count > 0) FlushCalls(finish);
        else Chunk(null, finish);
    }
}
