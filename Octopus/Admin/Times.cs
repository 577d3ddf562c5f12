using System.Globalization;

namespace Octopus.Admin;

/// <summary>The API speaks RFC 3339 (UTC, milliseconds); queries also accept unix milliseconds.</summary>
internal static class Times
{
    public static string Format(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string? Format(long? unixMs) => unixMs is { } v ? Format(v) : null;

    /// <summary>RFC 3339 / ISO 8601 with offset, or an integer of unix milliseconds.</summary>
    public static bool TryParse(string? text, out long unixMs)
    {
        unixMs = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out unixMs)) return true;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto)
            && (text.Contains('T') || text.Contains(' ')))
        {
            unixMs = dto.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }
}
