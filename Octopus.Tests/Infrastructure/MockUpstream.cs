using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that answers like an LLM provider: OpenAI Chat, Responses, Anthropic Messages
/// and Gemini, streamed and not, with the providers' exact SSE framing. Tests script faults per request through
/// <see cref="Behave"/>; every request received is recorded.
/// </summary>
public sealed class MockUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string Name { get; }
    public string BaseUrl { get; }
    public ConcurrentQueue<Received> Requests { get; } = new();
    /// <summary>Requests whose connection the client (Octopus) aborted before the reply finished.</summary>
    public ConcurrentQueue<(Received Request, DateTimeOffset At)> Aborted { get; } = new();
    /// <summary>Decides the reply for each request; null means the default successful reply.</summary>
    public Func<Received, Reply?>? Behave { get; set; }
    public int Count => Requests.Count;

    public sealed record Received(string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string BodyText => Encoding.UTF8.GetString(Body);
        public JsonElement Json => Body.Length == 0 ? default : JsonDocument.Parse(Body).RootElement;
        public string? Model => Path.Contains("/models/") ? Path.Split("/models/")[1].Split(':')[0]
            : Body.Length > 0 && Json.TryGetProperty("model", out var m) ? m.GetString() : null;
        public string? Key => Headers.TryGetValue("authorization", out var a) ? a.Replace("Bearer ", "") :
            Headers.TryGetValue("x-api-key", out var x) ? x : Headers.TryGetValue("x-goog-api-key", out var g) ? g : null;
    }

    /// <summary>A scripted reply. Set <see cref="Status"/>+<see cref="Body"/>, or <see cref="Events"/> for SSE.</summary>
    public sealed record Reply
    {
        public int Status { get; init; } = 200;
        public string? Body { get; init; }
        public IReadOnlyList<string>? Events { get; init; }
        public Dictionary<string, string> Headers { get; init; } = [];
        public TimeSpan DelayBeforeHeaders { get; init; }
        public TimeSpan DelayBetweenEvents { get; init; }
        /// <summary>After this many events, stop sending but keep the connection open (a stalled stream).</summary>
        public int? StallAfter { get; init; }
        /// <summary>After this many events, abort the connection (a stream cut mid-way).</summary>
        public int? CutAfter { get; init; }
        /// <summary>Send only headers, then nothing.</summary>
        public bool HeadersThenSilence { get; init; }
    }

    private MockUpstream(WebApplication app, string name, string baseUrl)
    {
        _app = app;
        Name = name;
        BaseUrl = baseUrl;
    }

    public static async Task<MockUpstream> StartAsync(string name = "mock")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        MockUpstream? self = null;
        app.Run(ctx => self!.HandleAsync(ctx));
        await app.StartAsync();
        var address = app.Urls.First();
        self = new MockUpstream(app, name, address);
        return self;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms);
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var received = new Received(ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "", headers, ms.ToArray());
        Requests.Enqueue(received);

        try
        {
            var reply = Behave?.Invoke(received);
            if (reply is null && ctx.Request.Method == "GET" && received.Path.EndsWith("/models"))
            {
                await WriteJson(ctx, 200, ModelList(received.Path));
                return;
            }
            reply ??= DefaultReply(received);
            await SendAsync(ctx, received, reply);
        }
        catch (OperationCanceledException)
        {
            Aborted.Enqueue((received, DateTimeOffset.UtcNow));
        }
        catch (IOException)
        {
            Aborted.Enqueue((received, DateTimeOffset.UtcNow));
        }
    }

    private static async Task SendAsync(HttpContext ctx, Received req, Reply reply)
    {
        var ct = ctx.RequestAborted;
        if (reply.DelayBeforeHeaders > TimeSpan.Zero) await Task.Delay(reply.DelayBeforeHeaders, ct);
        ctx.Response.StatusCode = reply.Status;
        foreach (var (k, v) in reply.Headers) ctx.Response.Headers[k] = v;
        if (reply.HeadersThenSilence)
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.Body.FlushAsync(ct);
            await Task.Delay(Timeout.Infinite, ct);
        }
        if (reply.Events is null)
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(reply.Body ?? "", ct);
            return;
        }
        ctx.Response.ContentType = "text/event-stream";
        await ctx.Response.Body.FlushAsync(ct);
        for (var i = 0; i < reply.Events.Count; i++)
        {
            if (reply.StallAfter == i)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            if (reply.CutAfter == i)
            {
                ctx.Abort();
                return;
            }
            if (i > 0 && reply.DelayBetweenEvents > TimeSpan.Zero) await Task.Delay(reply.DelayBetweenEvents, ct);
            await ctx.Response.WriteAsync(reply.Events[i], ct);
            await ctx.Response.Body.FlushAsync(ct);
        }
    }

    private static Task WriteJson(HttpContext ctx, int status, string json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json);
    }

    private static string ModelList(string path) => path.Contains("v1beta")
        ? """{"models":[{"name":"models/gemini-2.5-flash"},{"name":"models/gemini-2.5-pro"}]}"""
        : """{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"},{"id":"gpt-4o","object":"model"},{"id":"claude-sonnet-4-5","object":"model"}]}""";

    /// <summary>A correct reply in the protocol the request's path names, saying "Hello from {Name}".</summary>
    public Reply DefaultReply(Received req)
    {
        var text = $"Hello from {Name}";
        var model = req.Model ?? "unknown";
        if (req.Path.EndsWith("/chat/completions"))
        {
            var stream = req.Json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var includeUsage = req.Json.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
            return stream ? new Reply { Events = Wire.OpenAIChatStream(model, text, includeUsage) } : new Reply { Body = Wire.OpenAIChatJson(model, text) };
        }
        if (req.Path.EndsWith("/messages"))
        {
            var stream = req.Json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            return stream ? new Reply { Events = Wire.AnthropicStream(model, text) } : new Reply { Body = Wire.AnthropicJson(model, text) };
        }
        if (req.Path.EndsWith("/responses"))
        {
            var stream = req.Json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            return stream ? new Reply { Events = Wire.ResponsesStream(model, text) } : new Reply { Body = Wire.ResponsesJson(model, text) };
        }
        if (req.Path.Contains(":streamGenerateContent")) return new Reply { Events = Wire.GeminiStream(model, text) };
        if (req.Path.Contains(":generateContent")) return new Reply { Body = Wire.GeminiJson(model, text) };
        return new Reply { Status = 404, Body = """{"error":{"message":"no such route"}}""" };
    }

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
