namespace Octopus.Admin;

internal static class KeyMask
{
    /// <summary>`sk-ab…yz`: first 5 + … + last 2. Short secrets show nothing (they would show most of themselves).</summary>
    public static string Mask(string secret) => secret.Length >= 12 ? secret[..5] + "…" + secret[^2..] : "****";
}
