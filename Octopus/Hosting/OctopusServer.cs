using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Octopus.Configuration;

namespace Octopus.Hosting;

/// <summary>Builds and runs the gateway: Kestrel (slim builder), storage, features, shutdown work.</summary>
internal static class OctopusServer
{
    public static async Task<int> RunAsync(OctopusConfig config)
    {
        ApplyInlineCompletions(config);
        WebApplication app;
        try
        {
            app = await BuildAsync(config);
        }
        catch (StartupException e)
        {
            Console.Error.WriteLine("octopus: " + e.Message);
            return 1;
        }

        await using (app)
        {
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Octopus");
            try
            {
                await app.StartAsync();
            }
            catch (IOException e) when (e.InnerException is SocketException or null || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine($"octopus: cannot listen on {config.Host}:{config.Port}: {e.Message} (set server.port or OCTOPUS_SERVER_PORT)");
                return 1;
            }
            log.LogInformation("Octopus {Version} listening on {Urls} (database: {Db})", Cli.BuildInfo.Current.Version,
                string.Join(", ", ListeningAddresses(app)), config.DatabaseType);
            if (config.InlineScheduling && config.InlineCompletions)
                log.LogWarning("server.inline_scheduling and server.inline_completions are both on: all request code runs on the socket event threads, which measured slower than either alone (README, Benchmark)");
            if (config.DatabaseType == "sqlite" && !Storage.SqliteNative.Tuned)
                log.LogWarning("SQLite was initialized before Octopus could configure it: it runs serialized, with malloc statistics (slower log writes)");

            // Returns after SIGTERM/Ctrl+C once Kestrel has stopped accepting and in-flight requests have finished
            // (bounded by server.shutdown_timeout_seconds).
            await app.WaitForShutdownAsync();
            await app.Services.GetRequiredService<ShutdownWork>().RunAsync(log);
            log.LogInformation("Octopus stopped");
        }
        return 0;
    }

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// server.inline_completions: the runtime reads this variable once, when the first socket joins its event loop, so
    /// it is set before anything opens a socket (the database included). On, a socket completion continues on the
    /// event thread (one per core then) instead of being queued to a pool worker: 7-15 % less CPU per relayed request
    /// and fewer context switches (README, Benchmark). Work that could block there or run long hops to the pool itself
    /// (docs/architecture.md, Threads). Not in <see cref="BuildAsync"/>: a test host keeps the runtime's default.
    /// </summary>
    private static void ApplyInlineCompletions(OctopusConfig config) =>
        Environment.SetEnvironmentVariable(InlineCompletionsVariable, config.InlineCompletions ? "1" : null);

    /// <summary>Builds the app; tests call this with port 0 and start it themselves.</summary>
    public static async Task<WebApplication> BuildAsync(OctopusConfig config, Action<WebApplicationBuilder>? configure = null)
    {
        // Octopus reads its own config file, so the appsettings*.json the builder looks for are never used; watching
        // them put an inotify watch on the working directory and everything under it, and SQLite's write-ahead log
        // lives there (data/): every log batch woke the watcher thread.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Configuration.Sources.Clear();

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            o.UseUtcTimestamp = false;
        });
        var level = config.LogLevel switch
        {
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        builder.Logging.SetMinimumLevel(level);
        // ASP.NET's own per-request logs are noise at info; keep its warnings.
        builder.Logging.AddFilter("Microsoft", level == LogLevel.Debug ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // Any level enabled here makes ASP.NET start an Activity and a log scope for every request (about 2 µs each);
        // it only logs request start and finish (info), and start-up failures reach us as exceptions.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", level == LogLevel.Debug ? LogLevel.Information : LogLevel.None);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.ShutdownTimeoutSeconds));
        // Opt-in (server.inline_scheduling): request code starts on the socket's I/O thread instead of a hop through
        // the thread pool. It saves ~10 µs per request when idle, but under 32 concurrent connections it cost 10-20 %
        // more CPU per request and 12-25 % fewer requests/s (docs in README). The relay path never blocks either way;
        // the admin API hops to the pool itself (AdminEndpoints).
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = config.InlineScheduling);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = (long)config.MaxBodyMb * 1024 * 1024;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            k.Limits.MaxRequestHeaderCount = 200;
            if (config.Host is "0.0.0.0" or "*" or "")
                k.ListenAnyIP(config.Port);
            else if (config.Host == "localhost")
                k.ListenLocalhost(config.Port);
            else if (IPAddress.TryParse(config.Host, out var ip))
                k.Listen(ip, config.Port);
            else
                throw new StartupException($"server.host={config.Host} is not an IP address (use 0.0.0.0, 127.0.0.1, ::, or localhost)");
        });

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton<ShutdownWork>();
        builder.Services.AddSingleton<ConfigChangeSignal>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, HostingJsonContext.Default));

        await Features.AddAsync(builder, config);
        configure?.Invoke(builder);

        var app = builder.Build();
        await Features.MapAsync(app);
        return app;
    }

    public static IEnumerable<string> ListeningAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
}

/// <summary>A start-up failure reported as one line, exit code 1.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
