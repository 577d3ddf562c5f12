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
    private readonly ConcurrentDictionary<string, Pair> _clients = new(StringComparer.Ordinal);

    /// <summary>
    /// The relay's sender is the bare handler: HttpClient.SendAsync links one more CancellationTokenSource to every
    /// request's token (for its pending-requests cancel), and the relay already applies its own timeouts.
    /// </summary>
    private sealed record Pair(HttpClient Client, HttpMessageInvoker Invoker);

    /// <summary>The client for a channel's proxy, or the global `proxy` setting when the channel has none.</summary>
    public HttpClient For(string? proxy) => Get(proxy).Client;

    /// <summary>
    /// The same pool as <see cref="For"/> for the relay's hot path. Responses come back once their headers are read
    /// (no buffering), exceptions are HttpRequestException and OperationCanceledException as with HttpClient.
    /// </summary>
    public HttpMessageInvoker SenderFor(string? proxy) => Get(proxy).Invoker;

    private Pair Get(string? proxy) =>
        _clients.GetOrAdd(!string.IsNullOrWhiteSpace(proxy) ? proxy.Trim() : settings.Current.Proxy, Create);

    private static Pair Create(string proxy)
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
        var client = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the relay applies its own per-phase timeouts
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        return new Pair(client, new HttpMessageInvoker(handler, disposeHandler: false));
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values)
        {
            c.Invoker.Dispose();
            c.Client.Dispose();
        }
        _clients.Clear();
    }
}
