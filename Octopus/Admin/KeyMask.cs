namespace Octopus.Admin;

/// <summary>
/// How secrets show in admin API replies. A client that sends a masked value back unchanged (a form saved without
/// touching the field) keeps the stored secret: see <see cref="IsMaskOf"/>.
/// </summary>
internal static class KeyMask
{
    private const string Hidden = "****";

    /// <summary>`sk-ab…yz`: first 5 + … + last 2. Short secrets show nothing (they would show most of themselves).</summary>
    public static string Mask(string secret) => secret.Length >= 12 ? secret[..5] + "…" + secret[^2..] : Hidden;

    /// <summary>A proxy URL with its password hidden: `http://user:****@proxy:3128`.</summary>
    public static string MaskCredentials(string url) => MaskUrl(url, hidePath: false);

    /// <summary>
    /// A webhook URL shown by its host only: `https://open.feishu.cn/****`. Webhook tokens live in the path
    /// (Feishu, Slack) or the query (Matrix `access_token`).
    /// </summary>
    public static string MaskPath(string url) => MaskUrl(url, hidePath: true);

    /// <summary>Whether <paramref name="sent"/> is what the API showed for <paramref name="stored"/>.</summary>
    public static bool IsMaskOf(string? sent, string? stored, Func<string, string> mask) =>
        !string.IsNullOrEmpty(sent) && !string.IsNullOrEmpty(stored) && sent != stored && sent == mask(stored);

    private static string MaskUrl(string url, bool hidePath)
    {
        if (url.Length == 0) return url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u)) return Hidden;
        var user = u.UserInfo.Length == 0 ? "" : u.UserInfo.Split(':')[0] + (u.UserInfo.Contains(':') ? ":" + Hidden : "") + "@";
        var rest = hidePath ? (u.PathAndQuery is "/" && u.Fragment.Length == 0 ? "" : "/" + Hidden) : u.PathAndQuery is "/" ? "" : u.PathAndQuery;
        return $"{u.Scheme}://{user}{u.Authority}{rest}";
    }
}
