using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Octopus.Tests.Admin;

/// <summary>One request the mock saw.</summary>
internal sealed record SeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A provider stand-in on 127.0.0.1: answers each "METHOD /path" with a fixed status and body, records requests.
/// Paths are matched without the query string.
/// </summary>
internal sealed class MockProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _routes = new();
    public ConcurrentQueue<SeenRequest> Seen { get; } = new();
    public string BaseUrl { get; private set; } = "";

    private MockProvider(WebApplication app) => _app = app;

    public static async Task<MockProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var mock = new MockProvider(app);
        app.Run(mock.HandleAsync);
        await app.StartAsync();
        mock.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return mock;
    }

    public void On(string method, string path, int status, string body) => _routes[method + " " + path] = (status, body);

    private async Task HandleAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        Seen.Enqueue(new SeenRequest(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString,
            ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body));
        if (_routes.TryGetValue(ctx.Request.Method + " " + ctx.Request.Path, out var r))
        {
            ctx.Response.StatusCode = r.Status;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(r.Body);
        }
        else
        {
            ctx.Response.StatusCode = 404;
            await ctx.Response.WriteAsync("""{"error":{"message":"no such route"}}""");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
