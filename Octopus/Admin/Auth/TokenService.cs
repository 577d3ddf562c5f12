using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Octopus.Admin.Auth;

/// <summary>
/// Admin bearer tokens: `base64url(v1.userId.tokenVersion.expiresUnixSeconds).base64url(HMAC-SHA256)`. The secret
/// is random per install (kept in settings as `_auth_secret`). A password change bumps the user's token version,
/// which kills every older token.
/// </summary>
internal sealed class TokenService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private byte[] _secret = [];
    private readonly TimeProvider _time;

    public TokenService(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    public void SetSecret(byte[] secret) => _secret = secret;

    public (string Token, DateTimeOffset ExpiresAt) Issue(long userId, long tokenVersion)
    {
        var expires = _time.GetUtcNow().Add(Lifetime);
        var payload = string.Create(CultureInfo.InvariantCulture, $"v1.{userId}.{tokenVersion}.{expires.ToUnixTimeSeconds()}");
        var payloadBytes = Encoding.UTF8.GetBytes(payload);
        return (Base64Url.EncodeToString(payloadBytes) + "." + Base64Url.EncodeToString(Sign(payloadBytes)), expires);
    }

    /// <summary>The user id and token version in a valid, unexpired token; null otherwise.</summary>
    public (long UserId, long TokenVersion)? Validate(string token)
    {
        if (_secret.Length == 0) return null;
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1) return null;
        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(Sign(payload), signature)) return null;
        var parts = Encoding.UTF8.GetString(payload).Split('.');
        if (parts.Length != 4 || parts[0] != "v1") return null;
        if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
            return null;
        if (_time.GetUtcNow().ToUnixTimeSeconds() >= expires) return null;
        return (userId, version);
    }

    private byte[] Sign(byte[] payload) => HMACSHA256.HashData(_secret, payload);
}
