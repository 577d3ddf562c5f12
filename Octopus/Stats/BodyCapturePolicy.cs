using System.Text;
using Octopus.Domain;

namespace Octopus.Stats;

/// <summary>
/// Which request/response bodies are kept with the logs: `off` (default), `errors` (failed requests only),
/// `sampled` (a percentage), `all`; each body cut at a byte cap with a visible marker.
/// </summary>
internal sealed record BodyCapturePolicy
{
    public static readonly BodyCapturePolicy Off = new();
    public static readonly string[] Modes = ["off", "errors", "sampled", "all"];

    public string Mode { get; init; } = "off";
    public int SamplePercent { get; init; } = 10;
    public int MaxBytes { get; init; } = 64 * 1024;

    public bool ShouldCapture(bool failed) => Mode switch
    {
        "all" => true,
        "errors" => failed,
        "sampled" => failed || Random.Shared.Next(100) < SamplePercent,
        _ => false,
    };

    public string? Cut(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        if (body.Length <= MaxBytes) return Encoding.UTF8.GetString(body);
        // Cut on a UTF-8 boundary so the stored text stays valid.
        var end = MaxBytes;
        while (end > 0 && (body[end] & 0xC0) == 0x80) end--;
        return Encoding.UTF8.GetString(body[..end]) + $"\n…[truncated: {body.Length - end} of {body.Length} bytes not kept]";
    }

    public RequestBody? Capture(long logId, long time, bool failed, ReadOnlySpan<byte> request, ReadOnlySpan<byte> response) =>
        ShouldCapture(failed) ? new RequestBody { LogId = logId, Time = time, Request = Cut(request), Response = Cut(response) } : null;
}
