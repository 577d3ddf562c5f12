using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Octopus.Domain;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

/// <summary>Client API keys: `Authorization: Bearer`, `x-api-key` (Anthropic), `x-goog-api-key` / `?key=` (Gemini).</summary>
internal static class ClientAuth
{
    public static string? ExtractKey(HttpRequest request)
    {
        var auth = request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return auth[7..].Trim();
        var x = request.Headers["x-api-key"].ToString();
        if (x.Length > 0) return x.Trim();
        var g = request.Headers["x-goog-api-key"].ToString();
        if (g.Length > 0) return g.Trim();
        var q = request.Query["key"].ToString();
        return q.Length > 0 ? q.Trim() : null;
    }

    /// <summary>Lower-case hex SHA-256, as stored.</summary>
    public static string Hash(string secret)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), hash);
        return Convert.ToHexStringLower(hash);
    }

    private const int MaxCachedHashes = 1024;
    private static readonly ConcurrentDictionary<string, string> HashCache = new(StringComparer.Ordinal);

    /// <summary>
    /// <see cref="Hash"/> remembered per secret: hashing every request was about 2% of the relay's CPU. Only
    /// key-sized secrets are kept, and the cache starts over when full, so a scanner's guesses cannot grow it.
    /// </summary>
    internal static string CachedHash(string secret)
    {
        if (HashCache.TryGetValue(secret, out var hash)) return hash;
        hash = Hash(secret);
        if (secret.Length > 256) return hash;
        if (HashCache.Count >= MaxCachedHashes) HashCache.Clear();
        HashCache[secret] = hash;
        return hash;
    }

    internal static int CachedHashCount => HashCache.Count;

    /// <summary>Null when the key may use the relay; otherwise why not (the message the client sees).</summary>
    public static string? Check(RelaySnapshot snapshot, string? secret, long nowMs, out ApiKey? key)
    {
        key = null;
        if (string.IsNullOrEmpty(secret)) return "missing API key: send it as `Authorization: Bearer sk-...`";
        if (!snapshot.ApiKeysByHash.TryGetValue(CachedHash(secret), out key)) return "invalid API key";
        if (!key.Enabled) return "this API key is disabled";
        if (key.ExpiresAt is { } exp && exp <= nowMs) return "this API key has expired";
        return null;
    }

    public static bool MayUse(ApiKey key, Group group) =>
        key.AllowedGroups.Count == 0 || key.AllowedGroups.Contains(group.Name, StringComparer.Ordinal);
}
