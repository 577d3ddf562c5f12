using Octopus.Hosting;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

internal static class RelayFeature
{
    public static void AddRelay(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SnapshotService>();
        services.AddSingleton<KeyPool>();
        services.AddSingleton<BaseUrlSelector>();
        services.AddSingleton<MemberCooldowns>();
        services.AddSingleton<AffinityTable>();
        services.AddSingleton<UpstreamClients>();
        services.AddSingleton<Limits.KeyLimiter>();
        services.AddSingleton<ChannelHealth>();
        services.AddSingleton<RelayHandler>();
        services.AddSingleton<KeyStatusWriter>();
        services.AddSingleton<ProbeService>();
        services.AddSingleton<Proxy.ProxyHandler>();
        services.AddSingleton<Notifications.FailureNotifier>();
    }

    /// <summary>Loads the first snapshot (start-up fails if the database cannot be read), starts probes, maps endpoints.</summary>
    public static async Task UseRelayAsync(this WebApplication app)
    {
        var snapshots = app.Services.GetRequiredService<SnapshotService>();
        var keyPool = app.Services.GetRequiredService<KeyPool>();
        snapshots.Swapped += s => keyPool.Sync(s.Channels.Values);
        try
        {
            await snapshots.ReloadAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new StartupException("cannot load the relay configuration from the database: " + e.Message, e);
        }
        app.Services.GetRequiredService<KeyStatusWriter>();
        Protocols.Conversion.ConversionLog.Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Octopus.Conversion");
        var probes = app.Services.GetRequiredService<ProbeService>();
        probes.Start();
        app.Services.GetRequiredService<ShutdownWork>().Register("probes", async _ => await probes.DisposeAsync());
        app.MapRelay();
        Proxy.ProxyEndpoints.MapProxy(app);
    }
}
