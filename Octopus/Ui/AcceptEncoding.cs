namespace Octopus.Ui;

internal enum ContentCoding
{
    Identity,
    Gzip,
    Brotli,
}

/// <summary>Picks the best content coding the client accepts (RFC 9110 §12.5.3), preferring br over gzip.</summary>
internal static class AcceptEncoding
{
    public static ContentCoding Choose(string? header, bool hasGzip, bool hasBrotli)
    {
        if (string.IsNullOrEmpty(header) || (!hasGzip && !hasBrotli)) return ContentCoding.Identity;
        double br = -1, gzip = -1, star = -1;
        foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var semi = part.IndexOf(';');
            var name = (semi < 0 ? part : part[..semi]).Trim();
            var q = semi < 0 ? 1.0 : ParseQ(part.AsSpan(semi + 1));
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase)) br = Math.Max(br, q);
            else if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase)) gzip = Math.Max(gzip, q);
            else if (name == "*") star = Math.Max(star, q);
        }
        // A coding not named takes the `*` weight, if any.
        if (br < 0) br = star < 0 ? 0 : star;
        if (gzip < 0) gzip = star < 0 ? 0 : star;
        if (!hasBrotli) br = 0;
        if (!hasGzip) gzip = 0;
        if (br > 0 && br >= gzip) return ContentCoding.Brotli;
        if (gzip > 0) return ContentCoding.Gzip;
        return ContentCoding.Identity;
    }

    private static double ParseQ(ReadOnlySpan<char> parameters)
    {
        foreach (var range in parameters.Split(';'))
        {
            var p = parameters[range].Trim();
            if (p.Length >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
            {
                return double.TryParse(p[2..], System.Globalization.NumberStyles.AllowDecimalPoint,
                    System.Globalization.CultureInfo.InvariantCulture, out var q) && q is >= 0 and <= 1 ? q : 0;
            }
        }
        return 1.0;
    }
}
