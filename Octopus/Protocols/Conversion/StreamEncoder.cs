using System.Buffers;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols.Canonical;

namespace Octopus.Protocols.Conversion;

/// <summary>
/// Base for client-side stream encoders: keeps usage, stop reason, the content flag and the closed state, and writes
/// framed SSE events to the output of the current call.
/// </summary>
internal abstract class StreamEncoder(ApiProtocol upstream, string clientModel) : IStreamSink
{
    private Utf8JsonWriter? _writer;
    private Usage _usage;

    protected ApiProtocol Upstream { get; } = upstream;
    protected string ClientModel { get; } = clientModel;
    protected IBufferWriter<byte> Output { get; private set; } = null!;

    public Usage CurrentUsage => _usage;
    public string? StopReason { get; protected set; }
    public bool IsClosed { get; protected set; }
    /// <summary>The message of the in-band error this stream ended with, if it did.</summary>
    public string? ErrorMessage { get; private set; }
    public bool ContentSeen { get; set; }
    protected bool SawToolCall { get; set; }

    public void Bind(IBufferWriter<byte> output) => Output = output;

    /// <summary>Starts one SSE event: `event: name\n` (when named) and `data: `; returns the JSON writer for its data.</summary>
    protected Utf8JsonWriter BeginEvent(string? eventName)
    {
        if (eventName is not null)
        {
            Output.Write("event: "u8);
            WriteUtf8(eventName);
            Output.Write("\n"u8);
        }
        Output.Write("data: "u8);
        if (_writer is null) _writer = new Utf8JsonWriter(Output, JsonWrite.Options);
        else _writer.Reset(Output);
        return _writer;
    }

    /// <summary>The JSON writer on the output, for a value written between raw bytes of an event.</summary>
    protected Utf8JsonWriter ValueWriter()
    {
        if (_writer is null) _writer = new Utf8JsonWriter(Output, JsonWrite.Options);
        else _writer.Reset(Output);
        return _writer;
    }

    protected void EndEvent()
    {
        _writer!.Flush();
        Output.Write("\n\n"u8);
    }

    protected void WriteUtf8(string s)
    {
        var span = Output.GetSpan(System.Text.Encoding.UTF8.GetMaxByteCount(s.Length));
        var n = System.Text.Encoding.UTF8.GetBytes(s, span);
        Output.Advance(n);
    }

    public void Usage(in Usage usage)
    {
        if (usage.InputTokens != 0) _usage.InputTokens = usage.InputTokens;
        if (usage.OutputTokens != 0) _usage.OutputTokens = usage.OutputTokens;
        if (usage.CacheReadTokens != 0) _usage.CacheReadTokens = usage.CacheReadTokens;
        if (usage.CacheWriteTokens != 0) _usage.CacheWriteTokens = usage.CacheWriteTokens;
        if (usage.ReasoningTokens != 0) _usage.ReasoningTokens = usage.ReasoningTokens;
    }

    public void Finish(string stopReason) => StopReason = stopReason;

    /// <summary>The stop reason to report at the end: the upstream's, else inferred.</summary>
    protected string FinalStopReason()
    {
        StopReason ??= SawToolCall ? StopReasons.ToolUse : StopReasons.EndTurn;
        // Some upstreams (Gemini, OpenAI-compatible) say "stop" after tool calls; clients loop on tool_use.
        if (SawToolCall && StopReason == StopReasons.EndTurn) StopReason = StopReasons.ToolUse;
        return StopReason;
    }

    public abstract void Start(string? id, string? model);
    public abstract void Text(string text);
    public abstract void Thinking(string text);
    public abstract void ThinkingSignature(string signature);
    public abstract void RedactedThinking(string data);
    public abstract void ToolCallStart(int key, string id, string name, string? thoughtSignature);
    public abstract void ToolCallArguments(int key, string fragment);
    public abstract void Refusal(string text);
    public abstract void BlockEnd();

    /// <summary>Writes the closing events once; later calls do nothing.</summary>
    public void Complete()
    {
        if (IsClosed) return;
        WriteCompletion();
        IsClosed = true;
    }

    /// <summary>Writes an in-band error once and closes; later calls do nothing.</summary>
    public void Fail(int status, string message)
    {
        if (IsClosed) return;
        WriteFailure(status, message);
        ErrorMessage = message;
        IsClosed = true;
    }

    public void Error(int status, string message) => Fail(status, message);

    protected abstract void WriteCompletion();
    protected virtual void WriteFailure(int status, string message) =>
        ProtocolErrors.WriteStreamEvent(Output, ClientProtocol, status, message, 0, null, ClientModel);

    protected abstract ApiProtocol ClientProtocol { get; }
}

/// <summary>Reads one upstream protocol's SSE events and reports them as canonical stream events.</summary>
internal interface IStreamDecoder
{
    void OnEvent(in Sse.SseEvent ev, IStreamSink sink);
}

/// <summary>
/// An upstream decoder wired to a client encoder. Events are staged and copied out only when whole, so a failure
/// halfway through an event never leaves a torn event in front of the in-band error.
/// </summary>
internal sealed class StreamTranscoder(IStreamDecoder decoder, StreamEncoder encoder) : IStreamTranscoder
{
    private readonly ArrayBufferWriter<byte> _staging = new(4096);

    public Usage Usage => encoder.CurrentUsage;
    public string? StopReason => encoder.StopReason;
    public bool IsClosed => encoder.IsClosed;
    public string? Error => encoder.ErrorMessage;

    public bool OnEvent(in Sse.SseEvent ev, IBufferWriter<byte> output)
    {
        if (encoder.IsClosed || !ev.HasData) return false;
        encoder.ContentSeen = false;
        // Not through Run: a closure over the event would be allocated for every event of the stream.
        Begin();
        try
        {
            decoder.OnEvent(ev, encoder);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Failed(ex);
        }
        output.Write(_staging.WrittenSpan);
        return encoder.ContentSeen;
    }

    public void Complete(IBufferWriter<byte> output) => Run(output, encoder.Complete);

    public void Fail(string message, IBufferWriter<byte> output) => Run(output, () => encoder.Fail(502, message));

    private void Run(IBufferWriter<byte> output, Action step)
    {
        Begin();
        try
        {
            step();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Failed(ex);
        }
        output.Write(_staging.WrittenSpan);
    }

    private void Begin()
    {
        _staging.ResetWrittenCount();
        encoder.Bind(_staging);
    }

    /// <summary>Malformed upstream data mid-stream: tell the client in-band and close rather than hang or throw.</summary>
    private void Failed(Exception ex)
    {
        _staging.ResetWrittenCount();
        encoder.Fail(502, ex is ProtocolException ? ex.Message : "Upstream stream could not be converted: " + ex.Message);
    }
}
