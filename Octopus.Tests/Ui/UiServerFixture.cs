using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Octopus.Configuration;
using Octopus.Hosting;

namespace Octopus.Tests.Ui;

/// <summary>The real gateway (Kestrel on 127.0.0.1, port 0) with the embedded admin bundle, shared by a test class.</summary>
public sealed class UiServerFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "octopus-ui-tests-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;
    public int Port => BaseAddress.Port;

    /// <summary>A client that does not decompress, so tests see Content-Encoding and the raw bytes.</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var config = new OctopusConfig
        {
            Host = "127.0.0.1",
            Port = 0,
            DatabasePath = Path.Combine(_dir, "data.db"),
            SourcePath = Path.Combine(_dir, "config.json"),
            LogLevel = "warn",
        };
        _app = await OctopusServer.BuildAsync(config);
        // Routes a feature could add, even after the panel: the panel must never answer for them.
        _app.MapGet("/api/v1/test-only", () => Results.Text("feature", "text/plain"));
        _app.MapGet("/channels/feature-route", () => Results.Text("feature", "text/plain"));
        await _app.StartAsync();
        BaseAddress = new Uri(OctopusServer.ListeningAddresses(_app).First());
        Client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, UseProxy = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
