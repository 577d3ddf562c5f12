using Octopus.Configuration;
using Octopus.Hosting;

namespace Octopus.Storage;

internal static class StorageServices
{
    /// <summary>Creates the database, applies migrations (failure = one-line StartupException) and registers the stores.</summary>
    public static async Task<Database> AddStorageAsync(this IServiceCollection services, OctopusConfig config)
    {
        var db = Database.Create(config);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await db.MigrateAsync(cts.Token);
        }
        catch (StoreUnavailableException e)
        {
            await db.DisposeAsync();
            throw new StartupException(e.Message, e);
        }
        catch (Exception e) when (e is not StartupException)
        {
            await db.DisposeAsync();
            var reason = e.Message.Split('\n')[0].Trim();
            throw new StartupException($"database migration failed ({db.Description}): {reason}", e);
        }
        services.AddSingleton(db);
        services.AddSingleton<AdminUserStore>();
        services.AddSingleton<ChannelStore>();
        services.AddSingleton<GroupStore>();
        services.AddSingleton<RoutingRuleStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<SettingStore>();
        services.AddSingleton<PriceStore>();
        services.AddSingleton<StatsStore>();
        services.AddSingleton<RequestLogStore>();
        services.AddSingleton<BackupStore>();
        return db;
    }
}
