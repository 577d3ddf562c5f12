// The .NET floor for scripts/bench.sh: the least a relay on Kestrel can do per request, in three depths.
//   POST /{group}/v1/chat/completions         Kestrel + HttpClient: forwards to UPSTREAM_BASE/{group}/v1/chat/completions
//                                             and copies the reply back as it arrives (the same handler settings as
//                                             Octopus's UpstreamClients); no auth, parsing, rewriting or stats.
//   POST /socket/{group}/v1/chat/completions  Kestrel + a bare HTTP/1.1 client on pooled sockets: a pre-encoded request
//                                             head, the reply's Content-Length read and its body copied. It knows only
//                                             what nginx's canned replies need (no chunked replies, no TLS, no retries).
//   POST /canned/{group}/v1/chat/completions  Kestrel alone: the reply is CANNED_DIR's file for the group, no upstream.
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

var upstreamBase = new Uri(Environment.GetEnvironmentVariable("UPSTREAM_BASE") ?? throw new InvalidOperationException("set UPSTREAM_BASE"));
var cannedDir = Environment.GetEnvironmentVariable("CANNED_DIR");
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
var app = builder.Build();
var sender = new HttpMessageInvoker(new SocketsHttpHandler
{
    AutomaticDecompression = DecompressionMethods.None,
    AllowAutoRedirect = false,
    UseCookies = false,
    UseProxy = false,
    MaxResponseDrainSize = 0,
});
var paths = new ConcurrentDictionary<string, Uri>();
var heads = new ConcurrentDictionary<string, byte[]>();
var canned = new ConcurrentDictionary<string, (byte[] Body, string Type)>();
var upstream = new IPEndPoint(IPAddress.Parse(upstreamBase.Host), upstreamBase.Port);
var idle = new ConcurrentBag<FloorConnection>();

app.MapPost("/{group}/v1/chat/completions", async (HttpContext http, string group) =>
{
    var target = paths.GetOrAdd(group, g => new Uri($"{upstreamBase}/{g}/v1/chat/completions"));
    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    using var request = new HttpRequestMessage(HttpMethod.Post, target)
    {
        Content = new ByteArrayContent(body.ToArray()),
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };
    request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
    using var response = await sender.SendAsync(request, http.RequestAborted);
    http.Response.StatusCode = (int)response.StatusCode;
    http.Response.ContentType = response.Content.Headers.ContentType?.ToString();
    if (response.Content.Headers.ContentLength is { } length) http.Response.ContentLength = length;
    await using var stream = await response.Content.ReadAsStreamAsync(http.RequestAborted);
    await stream.CopyToAsync(http.Response.Body, http.RequestAborted);
});

app.MapPost("/socket/{group}/v1/chat/completions", async (HttpContext http, string group) =>
{
    var head = heads.GetOrAdd(group, g => Encoding.ASCII.GetBytes(
        $"POST {upstreamBase.AbsolutePath.TrimEnd('/')}/{g}/v1/chat/completions HTTP/1.1\r\nHost: {upstreamBase.Authority}\r\n" +
        "Content-Type: application/json\r\nContent-Length: "));
    var c = idle.TryTake(out var pooled) ? pooled : await FloorConnection.OpenAsync(upstream);
    try
    {
        // The request: head, length digits, blank line, body. The body is read first into its place behind room for
        // the digits, then the head and the digits are written right up to it.
        var o = c.Out;
        var bodyStart = head.Length + 10 + 4;
        var at = bodyStart;
        int n;
        while ((n = await http.Request.Body.ReadAsync(o.AsMemory(at), http.RequestAborted)) > 0)
            if ((at += n) == o.Length) throw new InvalidOperationException("request body over the floor's buffer");
        Span<byte> digits = stackalloc byte[10];
        Utf8Formatter.TryFormat(at - bodyStart, digits, out var d);
        var from = bodyStart - 4 - d - head.Length;
        head.CopyTo(o, from);
        digits[..d].CopyTo(o.AsSpan(from + head.Length));
        "\r\n\r\n"u8.CopyTo(o.AsSpan(bodyStart - 4));
        await c.Socket.SendAsync(o.AsMemory(from, at - from), http.RequestAborted);

        var buf = c.In;
        int filled = 0, end;
        while ((end = buf.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            n = await c.Socket.ReceiveAsync(buf.AsMemory(filled), http.RequestAborted);
            if (n == 0) throw new IOException("upstream closed");
            filled += n;
        }
        var headers = buf.AsSpan(0, end);
        Utf8Parser.TryParse(headers[9..12], out int status, out _);
        var lengthValue = HeaderValue(headers, "\r\nContent-Length: "u8);
        if (!Utf8Parser.TryParse(lengthValue, out long left, out _)) throw new InvalidOperationException("the socket floor reads Content-Length replies only");
        http.Response.StatusCode = status;
        http.Response.ContentType = Encoding.ASCII.GetString(HeaderValue(headers, "\r\nContent-Type: "u8));
        http.Response.ContentLength = left;
        var have = filled - end - 4;
        if (have > 0)
        {
            await http.Response.Body.WriteAsync(buf.AsMemory(end + 4, have), http.RequestAborted);
            left -= have;
        }
        while (left > 0)
        {
            n = await c.Socket.ReceiveAsync(buf.AsMemory(0, (int)Math.Min(left, buf.Length)), http.RequestAborted);
            if (n == 0) throw new IOException("upstream closed");
            await http.Response.Body.WriteAsync(buf.AsMemory(0, n), http.RequestAborted);
            left -= n;
        }
        idle.Add(c);
        c = null;
    }
    finally
    {
        c?.Socket.Dispose();
    }
});

app.MapPost("/canned/{group}/v1/chat/completions", async (HttpContext http, string group) =>
{
    var (body, type) = canned.GetOrAdd(group, g => g == "json"
        ? (File.ReadAllBytes(Path.Combine(cannedDir!, "openai.json")), "application/json")
        : (File.ReadAllBytes(Path.Combine(cannedDir!, "openai.sse")), "text/event-stream"));
    await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
    http.Response.ContentType = type;
    http.Response.ContentLength = body.Length;
    await http.Response.Body.WriteAsync(body, http.RequestAborted);
});
app.Run();

static ReadOnlySpan<byte> HeaderValue(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> name)
{
    var i = headers.IndexOf(name);
    if (i < 0) return default;
    var value = headers[(i + name.Length)..];
    var e = value.IndexOf("\r\n"u8);
    return e < 0 ? value : value[..e];
}

sealed class FloorConnection
{
    public required Socket Socket { get; init; }
    public readonly byte[] Out = new byte[16384];
    public readonly byte[] In = new byte[16384];

    public static async Task<FloorConnection> OpenAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return new FloorConnection { Socket = socket };
    }
}
