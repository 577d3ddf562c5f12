using Octopus.Ui;

namespace Octopus.Hosting;

/// <summary>The one place that wires each capability in: services first, then endpoints.</summary>
internal static class Features
{
    public static Task AddAsync(WebApplicationBuilder builder, Configuration.OctopusConfig config)
    {
        return Task.CompletedTask;
    }

    public static Task MapAsync(WebApplication app)
    {
        app.MapHealth(_ => Task.FromResult<string?>(null));

        // Last: the admin panel answers only what no route above matched.
        app.MapAdminUi();
        return Task.CompletedTask;
    }
}
