using System.Globalization;
using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Pricing;
using Octopus.Relay;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;
using Octopus.Storage;

namespace Octopus.Stats;

internal static class StatsFeature
{
    public static void AddStats(this IServiceCollection services)
    {
        services.AddSingleton<StatsAggregator>();
        services.AddSingleton<IUnflushedStats>(sp => sp.GetRequiredService<StatsAggregator>());
        services.AddSingleton<PriceBook>();
        services.AddSingleton<RequestLogWriter>();
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<RequestRecorder>();
        services.AddSingleton<IRelayRecorder>(sp => sp.GetRequiredService<RequestRecorder>());
        services.AddSingleton<StatsFlusher>();
        services.AddSingleton<LogRetention>();
    }

    public static async Task UseStatsAsync(this WebApplication app)
    {
        var sp = app.Services;
        var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Octopus.Stats");
        var prices = sp.GetRequiredService<PriceBook>();
        await prices.ReloadAsync(CancellationToken.None);

        var settings = sp.GetRequiredService<SettingStore>();
        var recorder = sp.GetRequiredService<RequestRecorder>();
        var retention = sp.GetRequiredService<LogRetention>();
        var interval = TimeSpan.FromMinutes(1);
        async Task ApplySettingsAsync(CancellationToken ct)
        {
            var values = await settings.GetAllAsync(ct);
            interval = TimeSpan.FromMinutes(Int(values, "stats_save_interval", 1, 1, 1440));
            recorder.Capture = new BodyCapturePolicy
            {
                Mode = values.TryGetValue("body_capture", out var mode) && BodyCapturePolicy.Modes.Contains(mode) ? mode : "off",
                SamplePercent = Int(values, "body_sample_percent", 10, 0, 100),
                MaxBytes = Int(values, "body_max_bytes", 65536, 256, 16 * 1024 * 1024),
            };
            retention.LogRetentionDays = Int(values, "log_retention_days", 30, 1, 3650);
            retention.BodyRetentionDays = Int(values, "body_retention_days", 3, 1, 3650);
            await prices.ReloadAsync(ct);
        }
        await ApplySettingsAsync(CancellationToken.None);
        sp.GetRequiredService<ConfigChangeSignal>().Subscribe(ApplySettingsAsync);

        var flusher = sp.GetRequiredService<StatsFlusher>();
        flusher.Start(() => interval);
        var logs = sp.GetRequiredService<RequestLogWriter>();
        retention.Start(TimeSpan.FromHours(1));
        var shutdown = sp.GetRequiredService<ShutdownWork>();
        shutdown.Register("stats flush", flusher.FinalFlushAsync);
        shutdown.Register("request logs", logs.DrainAsync);

        var config = sp.GetRequiredService<OctopusConfig>();
        var metrics = sp.GetRequiredService<RelayMetrics>();
        var keys = sp.GetRequiredService<KeyPool>();
        var snapshots = sp.GetRequiredService<SnapshotService>();
        app.MapGet("/metrics", (HttpContext http) =>
        {
            if (config.MetricsToken.Length > 0 && http.Request.Headers.Authorization.ToString() != "Bearer " + config.MetricsToken)
                return Results.Text("metrics need Authorization: Bearer <metrics.token>\n", "text/plain", statusCode: 401);
            var allKeys = snapshots.Current.Channels.Values.SelectMany(c => c.Keys.Select(k => (c.Name, k)));
            var text = metrics.Render(keys, allKeys, flusher.FlushFailures, logs.Dropped, logs.WriteFailures);
            return Results.Text(text, "text/plain; version=0.0.4; charset=utf-8");
        });
        log.LogDebug("Stats flush every {Interval}", interval);
    }

    private static int Int(IReadOnlyDictionary<string, string> values, string key, int fallback, int min, int max) =>
        values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) && x >= min && x <= max ? x : fallback;
}
