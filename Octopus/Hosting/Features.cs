using Octopus.Admin;
using Octopus.Relay;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Ui;

namespace Octopus.Hosting;

/// <summary>The one place that wires each capability in: services first, then endpoints.</summary>
internal static class Features
{
    public static async Task AddAsync(WebApplicationBuilder builder, Configuration.OctopusConfig config)
    {
        await builder.Services.AddStorageAsync(config);
        builder.Services.AddSingleton<Settings.SettingsService>();
        builder.Services.AddRelay();
        builder.Services.AddStats();
        builder.Services.AddAdminApi();
        builder.Services.AddSingleton<ConfigVersionStore>();
        builder.Services.AddSingleton<ConfigSync>();
    }

    public static async Task MapAsync(WebApplication app)
    {
        var db = app.Services.GetRequiredService<Database>();
        app.MapHealth(db.CheckAsync);
        try
        {
            await app.Services.GetRequiredService<Settings.SettingsService>().ReloadAsync(CancellationToken.None);
        }
        catch (StoreUnavailableException e)
        {
            throw new StartupException("cannot read settings from the database: " + e.Message, e);
        }
        await app.UseRelayAsync();
        await app.UseStatsAsync();
        await app.MapAdminApiAsync();
        // Several instances on one PostgreSQL/MySQL database: changes made through one go live on the others.
        var sync = app.Services.GetRequiredService<ConfigSync>();
        sync.Start();
        app.Services.GetRequiredService<ShutdownWork>().Register("config sync", _ => sync.DisposeAsync().AsTask());
        // Last: the panel only answers what no feature route matched.
        app.MapAdminUi();
    }
}
