// Forwards POST /v1/chat/completions to UPSTREAM_BASE + /chat/completions and copies the reply back as it arrives:
// no auth, no parsing, no model rewrite, no stats. The same upstream handler settings as Octopus's UpstreamClients.
using System.Net;

var upstreamBase = Environment.GetEnvironmentVariable("UPSTREAM_BASE") ?? throw new InvalidOperationException("set UPSTREAM_BASE");
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
var paths = new Dictionary<string, Uri>();

app.MapPost("/{group}/v1/chat/completions", async (HttpContext http, string group) =>
{
    Uri target;
    lock (paths)
        if (!paths.TryGetValue(group, out target!)) paths[group] = target = new Uri($"{upstreamBase}/{group}/v1/chat/completions");
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
app.Run();
