using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Pricing;
using Octopus.Relay;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;
using Octopus.Settings;

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
        services.AddSingleton<BudgetTracker>();
        services.AddSingleton<RequestRecorder>();
        services.AddSingleton<IRelayRecorder>(sp => sp.GetRequiredService<RequestRecorder>());
        services.AddSingleton<StatsFlusher>();
        services.AddSingleton<LogRetention>();
    }

    public static async Task UseStatsAsync(this WebApplication app)
    {
        var sp = app.Services;
        var prices = sp.GetRequiredService<PriceBook>();
        await prices.ReloadAsync(CancellationToken.None);

        var settings = sp.GetRequiredService<SettingsService>();
        var recorder = sp.GetRequiredService<RequestRecorder>();
        var retention = sp.GetRequiredService<LogRetention>();
        void Apply(OctopusSettings s)
        {
            recorder.Capture = new BodyCapturePolicy { Mode = s.BodyCapture, SamplePercent = s.BodySamplePercent, MaxBytes = s.BodyMaxBytes };
            // 0 means "keep as long as possible" in the settings registry.
            retention.LogRetentionDays = s.LogRetentionDays > 0 ? s.LogRetentionDays : 36500;
            retention.BodyRetentionDays = s.BodyRetentionDays > 0 ? s.BodyRetentionDays : retention.LogRetentionDays;
        }
        Apply(settings.Current);
        // Settings are reloaded by their writers before the change signal fires.
        sp.GetRequiredService<ConfigChangeSignal>().Subscribe(async ct =>
        {
            Apply(settings.Current);
            await prices.ReloadAsync(ct);
        });

        var flusher = sp.GetRequiredService<StatsFlusher>();
        flusher.Start(() => TimeSpan.FromMinutes(Math.Max(1, settings.Current.StatsSaveIntervalMinutes)));
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
    }
}
