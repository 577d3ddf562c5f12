using Octopus.Storage;

namespace Octopus.Hosting;

/// <summary>The one place that wires each capability in: services first, then endpoints.</summary>
internal static class Features
{
    public static async Task AddAsync(WebApplicationBuilder builder, Configuration.OctopusConfig config)
    {
        await builder.Services.AddStorageAsync(config);
    }

    public static Task MapAsync(WebApplication app)
    {
        var db = app.Services.GetRequiredService<Database>();
        app.MapHealth(db.CheckAsync);
        return Task.CompletedTask;
    }
}
