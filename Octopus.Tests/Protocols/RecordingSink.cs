using Octopus.Domain;
using Octopus.Protocols.Canonical;

namespace Octopus.Tests.Protocols;

/// <summary>Records a decoder's canonical stream calls as lines.</summary>
internal sealed class RecordingSink : IStreamSink
{
    public List<string> Calls { get; } = [];
    public void Start(string? id, string? model) => Calls.Add($"start {id} {model}");
    public void Text(string text) => Calls.Add("text " + text);
    public void Thinking(string text) => Calls.Add("thinking " + text);
    public void ThinkingSignature(string signature) => Calls.Add("signature " + signature);
    public void RedactedThinking(string data) => Calls.Add("redacted " + data);
    public void ToolCallStart(int key, string id, string name, string? thoughtSignature) => Calls.Add($"call {key} {id} {name}");
    public void ToolCallArguments(int key, string fragment) => Calls.Add($"args {key} {fragment}");
    public void Refusal(string text) => Calls.Add("refusal " + text);
    public void BlockEnd() => Calls.Add("end");
    public void Usage(in Usage usage) => Calls.Add($"usage {usage.InputTokens} {usage.OutputTokens}");
    public void Finish(string stopReason) => Calls.Add("finish " + stopReason);
    public void Error(int status, string message) => Calls.Add($"error {status} {message}");
}
