using System.Text.RegularExpressions;
using Octopus.Domain;

namespace Octopus.Relay;

/// <summary>
/// Upstream messages can echo a key ("Incorrect API key provided: sk-ab…"): before such text is kept (channel and key
/// health) or sent anywhere (failure webhooks), the channel's own secrets and anything shaped like a key or bearer
/// token become <see cref="Marker"/>.
/// </summary>
internal static partial class SecretScrubber
{
    public const string Marker = "[redacted]";

    public static string Scrub(string text, Channel? channel)
    {
        if (channel is not null)
            foreach (var k in channel.Keys)
                if (k.Secret.Length >= 4) text = text.Replace(k.Secret, Marker, StringComparison.Ordinal);
        return SecretLike().Replace(text, Marker);
    }

    // Bearer tokens; key-prefixed tokens, also as providers echo them half-masked (`sk-proj-****abcd`); Google keys;
    // and any long unbroken token.
    [GeneratedRegex(@"(?i)(bearer\s+[A-Za-z0-9._\-~+/]{8,}=*|\bsk-[A-Za-z0-9_\-*.]{6,}|\b(sk|pk|rk|ak|key|AIza)[-_A-Za-z0-9]{12,}|\b[A-Za-z0-9_\-]{32,}\b)")]
    private static partial Regex SecretLike();
}
