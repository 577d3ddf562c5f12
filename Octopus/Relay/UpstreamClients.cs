using System.Collections.Concurrent;
using System.Net;

namespace Octopus.Relay;

/// <summary>
/// One pooled <see cref="HttpClient"/> per proxy setting (direct, or a channel's http/https/socks5 proxy), shared by
/// every request: connections stay warm and TLS handshakes are paid once.
/// </summary>
internal sealed class UpstreamClients(Settings.SettingsService settings) : IDisposable
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    /// <summary>The client for a channel's proxy, or the global `proxy` setting when the channel has none.</summary>
    public HttpClient For(string? proxy) =>
        _clients.GetOrAdd(!string.IsNullOrWhiteSpace(proxy) ? proxy.Trim() : settings.Current.Proxy, Create);

    private static HttpClient Create(string proxy)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            // Re-resolve DNS now and then; providers move their endpoints.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AutomaticDecompression = DecompressionMethods.None,
            // A response the relay abandons (client gone, idle timeout, failover) closes its connection at once; the
            // default drains it for up to 2 s to reuse the connection, keeping the upstream generating (and billing).
            MaxResponseDrainSize = 0,
            AllowAutoRedirect = false,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            UseProxy = proxy.Length > 0,
            Proxy = proxy.Length > 0 ? new WebProxy(new Uri(proxy)) : null,
        };
        return new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the relay applies its own per-phase timeouts
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values) c.Dispose();
        _clients.Clear();
    }
}
