using System.Buffers;
using Octopus.Domain;
using Octopus.Protocols.Sse;

namespace Octopus.Protocols.Conversion;

// Placeholder until the converter branch lands: cross-protocol requests answer a clear 400.
internal sealed record ConversionOptions
{
    public required string UpstreamModel { get; init; }
    public bool Stream { get; init; }
    public ChannelType ChannelType { get; init; }
    public string? ConversationId { get; init; }
    public bool AddCacheBreakpoints { get; init; }
}

internal sealed record ConvertedResponse(byte[] Body, Usage Usage);

internal interface IStreamTranscoder
{
    bool OnEvent(in SseEvent ev, IBufferWriter<byte> output);
    void Complete(IBufferWriter<byte> output);
    void Fail(string message, IBufferWriter<byte> output);
    Usage Usage { get; }
    string? StopReason { get; }
}

internal static class Converter
{
    public static byte[] ConvertRequest(ApiProtocol from, ApiProtocol to, ReadOnlySpan<byte> body, ConversionOptions options) =>
        throw new ProtocolException($"conversion from {from.ToWire()} to {to.ToWire()} is not available in this build");

    public static ConvertedResponse ConvertResponse(ApiProtocol upstream, ApiProtocol client, ReadOnlySpan<byte> body, string clientModel) =>
        throw new ProtocolException("conversion is not available in this build");

    public static IStreamTranscoder CreateStreamTranscoder(ApiProtocol upstream, ApiProtocol client, string clientModel) =>
        throw new ProtocolException("conversion is not available in this build");

    public static (int Status, byte[] Body) ConvertError(ApiProtocol upstream, ApiProtocol client, int status, ReadOnlySpan<byte> body) =>
        (status, ProtocolErrors.Body(client, status, "upstream error"));
}
