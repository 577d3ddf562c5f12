namespace Octopus.Protocols.Canonical;

/// <summary>
/// Reasoning signatures (Anthropic `signature`, OpenAI `encrypted_content`, Gemini `thoughtSignature`) are only
/// valid for the provider that minted them. When one crosses to a client of another protocol it is tagged with its
/// origin (`octopus:{protocol}:{value}`); on the next turn the tag tells whether the upstream can take it back, so a
/// foreign signature is dropped instead of failing the request. Tags are deterministic: history bytes stay stable.
/// </summary>
internal static class Signatures
{
    private const string Prefix = "octopus:";
    /// <summary>Origin name for Anthropic `redacted_thinking` data carried inside another protocol's signature.</summary>
    private const string RedactedName = "anthropic_redacted";

    public static string Tag(ApiProtocol origin, string? value, bool redacted = false) =>
        Prefix + (redacted ? RedactedName : origin.ToWire()) + ":" + (value ?? "");

    /// <summary>
    /// The signature to show a client: native values stay as they are for a client of the same protocol, anything
    /// else is tagged with its origin. Null when a native block has no signature.
    /// </summary>
    public static string? ForClient(ApiProtocol client, ApiProtocol origin, string? value, bool redacted = false) =>
        origin == client && !redacted ? value : Tag(origin, value, redacted);

    /// <summary>Reads a signature a client sent back. Untagged values belong to the client's own protocol.</summary>
    public static void Untag(string? value, ApiProtocol clientProtocol, out ApiProtocol origin, out string? signature, out bool redacted)
    {
        redacted = false;
        origin = clientProtocol;
        signature = value;
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal)) return;
        var rest = value.AsSpan(Prefix.Length);
        var colon = rest.IndexOf(':');
        if (colon < 0) return;
        var name = rest[..colon].ToString();
        if (name == RedactedName)
        {
            origin = ApiProtocol.Anthropic;
            redacted = true;
        }
        else if (!ApiProtocols.TryParse(name, out origin))
        {
            origin = clientProtocol;
            return;
        }
        var sig = rest[(colon + 1)..].ToString();
        signature = sig.Length == 0 ? null : sig;
    }
}
