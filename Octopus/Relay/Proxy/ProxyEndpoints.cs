namespace Octopus.Relay.Proxy;

internal static class ProxyEndpoints
{
    /// <summary>`/proxy/{group}/{native path}`, any method.</summary>
    public static void MapProxy(this WebApplication app)
    {
        var proxy = app.Services.GetRequiredService<ProxyHandler>();
        app.Map("/proxy/{group}/{**path}", (HttpContext http) => proxy.HandleAsync(http));
    }
}
