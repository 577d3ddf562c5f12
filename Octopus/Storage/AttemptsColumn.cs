using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>
/// The request log's `attempts` column. Most requests succeed at their first attempt, which then repeats its row's
/// channel, model and status: that attempt is stored as `~KEY_ID DURATION_MS BASE_URL` (about 40 bytes) instead of a
/// JSON list (about 170), whose writing and storing took a fifth of the log writer's time per row. Any other attempts
/// are the JSON list.
/// </summary>
internal static class AttemptsColumn
{
    private const char Compact = '~';

    /// <summary>The attempt the compact form stands for, or null when the log needs the JSON list.</summary>
    private static RequestAttempt? Single(RequestLog l) =>
        l.Attempts is [var a] && a.Error is null && a.ChannelId == l.ChannelId && a.ChannelName == l.ChannelName
            && a.Model == l.UpstreamModel && a.Status == l.Status
            ? a
            : null;

    public static string Write(RequestLog l) =>
        Single(l) is { } a ? string.Create(CultureInfo.InvariantCulture, $"{Compact}{a.KeyId} {a.DurationMs} {a.BaseUrl}") : JsonColumn.Write(l.Attempts);

    /// <summary>Writes the column as UTF-8 into <paramref name="output"/> (cleared first).</summary>
    public static void Write(RequestLog l, ArrayBufferWriter<byte> output, Utf8JsonWriter json)
    {
        output.ResetWrittenCount();
        if (Single(l) is not { } a)
        {
            json.Reset(output);
            JsonColumn.Write(json, l.Attempts);
            return;
        }
        var span = output.GetSpan(44 + Encoding.UTF8.GetMaxByteCount(a.BaseUrl.Length));
        Utf8.TryWrite(span, CultureInfo.InvariantCulture, $"{Compact}{a.KeyId} {a.DurationMs} {a.BaseUrl}", out var n);
        output.Advance(n);
    }

    /// <summary>The attempts of a stored row: the compact form takes the row's channel, model and status.</summary>
    public static List<RequestAttempt> Read(string? column, long? channelId, string? channelName, string? upstreamModel, int status)
    {
        if (column is not [Compact, ..]) return JsonColumn.ReadAttempts(column);
        var s = column.AsSpan(1);
        var first = s.IndexOf(' ');
        var second = first < 0 ? -1 : s[(first + 1)..].IndexOf(' ');
        if (second < 0
            || !long.TryParse(s[..first], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var keyId)
            || !long.TryParse(s.Slice(first + 1, second), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var durationMs))
            return [];
        return
        [
            new RequestAttempt
            {
                ChannelId = channelId ?? 0, ChannelName = channelName ?? "", BaseUrl = s[(first + second + 2)..].ToString(),
                Model = upstreamModel ?? "", KeyId = keyId, Status = status, DurationMs = durationMs,
            },
        ];
    }
}
