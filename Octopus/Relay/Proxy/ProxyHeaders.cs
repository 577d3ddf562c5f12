using System.Collections.Frozen;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace Octopus.Relay.Proxy;

/// <summary>
/// Which headers cross the transparent proxy. Hop-by-hop headers belong to one connection; the client's own
/// credentials and cookies belong to the gateway; the upstream's cookies and anything carrying its key never go back.
/// </summary>
internal static class ProxyHeaders
{
    private static readonly FrozenSet<string> HopByHop = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Trailers",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect", "Alt-Svc", "Http2-Settings",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The client's credentials for the gateway and the gateway's own cookies: never sent upstream.</summary>
    private static readonly FrozenSet<string> ClientOnly = new[]
    {
        "Authorization", "x-api-key", "x-goog-api-key", "Cookie", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host",
        "X-Forwarded-Proto", "X-Real-IP",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Upstream headers the client must not get: cookies for the provider's domain, connection-level ones.</summary>
    private static readonly FrozenSet<string> UpstreamOnly = new[] { "Set-Cookie", "Set-Cookie2" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Copies the client's safe request headers onto the upstream request (content headers onto its content).</summary>
    public static void CopyRequest(IHeaderDictionary from, HttpRequestMessage to)
    {
        var named = ConnectionNamed(from.Connection);
        foreach (var (name, value) in from)
        {
            if (name.StartsWith(':') || HopByHop.Contains(name) || ClientOnly.Contains(name) || named.Contains(name)) continue;
            if (!to.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value) && to.Content is not null)
                to.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
        }
    }

    /// <summary>Copies the upstream's safe response headers to the client, dropping any that would reveal the key.</summary>
    public static void CopyResponse(HttpResponseMessage from, HttpResponse to, string secret)
    {
        var named = ConnectionNamed(from.Headers.Connection is { Count: > 0 } c ? new StringValues(c.ToArray()) : StringValues.Empty);
        Copy(from.Headers);
        Copy(from.Content.Headers);
        if (from.Content.Headers.ContentLength is { } length) to.ContentLength = length;

        void Copy(HttpHeaders headers)
        {
            foreach (var (name, values) in headers.NonValidated)
            {
                if (HopByHop.Contains(name) || UpstreamOnly.Contains(name) || named.Contains(name)) continue;
                var list = new string[values.Count];
                var i = 0;
                var leaks = false;
                foreach (var v in values)
                {
                    leaks |= secret.Length > 0 && v.Contains(secret, StringComparison.Ordinal);
                    list[i++] = v;
                }
                if (!leaks) to.Headers[name] = list;
            }
        }
    }

    private static HashSet<string> ConnectionNamed(StringValues connection)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var v in connection)
            foreach (var token in (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                set.Add(token);
        return set;
    }
}
