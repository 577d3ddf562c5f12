using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Hosting;

/// <summary>Per-request work the host does besides the relay: what is on by default and what is not.</summary>
public sealed class RequestOverheadTests
{
    [Fact]
    public async Task Inline_scheduling_is_off_unless_configured()
    {
        Assert.False(new OctopusConfig().InlineScheduling);
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        test.Config.Host = "127.0.0.1";
        test.Config.Port = 0;
        await using var app = await OctopusServer.BuildAsync(test.Config);
        Assert.False(app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }

    [Theory]
    [InlineData("info", false)]
    [InlineData("warn", false)]
    [InlineData("debug", true)]
    public async Task Requests_get_an_activity_only_when_debug_logging_shows_them(string level, bool expected)
    {
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        test.Config.Host = "127.0.0.1";
        test.Config.Port = 0;
        test.Config.LogLevel = level;
        var seen = new List<bool>();
        await using var app = await OctopusServer.BuildAsync(test.Config,
            b => b.Services.AddSingleton<IStartupFilter>(new RecordActivity(seen)));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(OctopusServer.ListeningAddresses(app).First()) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            var relay = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, relay.StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
        lock (seen) Assert.Equal([expected, expected], seen);
    }

    [Fact]
    public async Task The_gateway_watches_no_files_so_database_writes_wake_nothing()
    {
        // SQLite's files live under the working directory, which ASP.NET would watch (recursively) for appsettings.
        var dir = Directory.CreateTempSubdirectory("octopus-watch-").FullName;
        try
        {
            using var gateway = await GatewayProcess.StartAsync(new OctopusConfig { DatabaseType = "sqlite", DatabasePath = "data/data.db" }, dir);
            var inotify = Directory.GetFiles($"/proc/{gateway.Pid}/fd")
                .Select(fd => new FileInfo(fd).LinkTarget)
                .Count(target => target is not null && target.Contains("inotify", StringComparison.Ordinal));
            Assert.Equal(0, inotify);
            Assert.True(File.Exists(Path.Combine(dir, "data", "data.db")));
            await gateway.TerminateAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Notes, for each request, whether ASP.NET's hosting layer started an Activity for it.</summary>
    private sealed class RecordActivity(List<bool> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                lock (seen) seen.Add(Activity.Current is not null);
                return following(context);
            });
            next(app);
        };
    }
}
