using Octopus.Admin.Auth;
using Octopus.Sync;
using Octopus.Settings;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>Wires the admin API (/api/v1): services, CORS, error mapping, one Map... per resource.</summary>
internal static class AdminEndpoints
{
    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.AddSingleton<TokenService>();
        services.AddSingleton<LoginRateLimiter>();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<ModelsDevSync>();
        services.AddSingleton<Sync.ModelSync>();
        services.AddSingleton<Sync.SyncScheduler>();
        return services;
    }

    /// <summary>Creates the first admin and token secret, loads settings, maps the routes.</summary>
    public static async Task MapAdminApiAsync(this WebApplication app)
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            try
            {
                await AdminAuth.BootstrapAsync(app.Services, cts.Token);
                }
            catch (StoreUnavailableException e)
            {
                throw new Hosting.StartupException(e.Message, e);
            }
        }
        app.MapAdminApi();
        app.Services.GetRequiredService<Sync.SyncScheduler>().Start();
    }

    public static void MapAdminApi(this WebApplication app)
    {
        app.Use(Cors);

        var api = app.MapGroup("/api/v1");
        api.AddEndpointFilter(async (context, next) =>
        {
            // With server.inline_scheduling on, Kestrel runs request code on its I/O threads; the admin API's database work
            // (SQLite is synchronous) and big JSON documents go to the thread pool instead of stalling relayed streams.
            await Task.Yield();
            try
            {
                return await next(context);
            }
            catch (StoreUnavailableException e)
            {
                return ApiResults.Error(503, "database_unavailable", e.Message);
            }
            catch (DuplicateNameException e)
            {
                return ApiResults.Error(409, "duplicate_name", e.Message, new Dictionary<string, string> { [e.Field] = "already exists" });
            }
            catch (BadHttpRequestException e) when (e.StatusCode == 413)
            {
                return ApiResults.Error(413, "payload_too_large", "request body is too large");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Octopus.Admin")
                    .LogError(e, "admin request {Method} {Path} failed", context.HttpContext.Request.Method, context.HttpContext.Request.Path);
                return ApiResults.Error(500, "internal_error", "the request failed; see the server log");
            }
        });

        api.MapAuth();
        api.MapSelf(); // a client key's own view: authenticated with the key, not an admin token
        var admin = api.MapGroup("").RequireAdmin();
        admin.MapChannels();
        admin.MapKeyHealth();
        admin.MapGroups();
        admin.MapRoutes();
        admin.MapApiKeys();
        admin.MapPrices();
        admin.MapSettings();
        admin.MapLogs();
        admin.MapLogCleanup();
        admin.MapStats();
        admin.MapBackup();

        // Unknown /api/v1 paths get their admin-shaped 404 from the panel's fallback (Ui/UiEndpoints), which runs only
        // when no route matched. No MapFallback here: the AOT request-delegate generator maps it as a global fallback.
    }

    /// <summary>CORS stays off unless the cors_allow_origins setting lists the caller's origin (or *).</summary>
    private static async Task Cors(HttpContext ctx, Func<Task> next)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || !ctx.Request.Path.StartsWithSegments("/api/v1"))
        {
            await next();
            return;
        }
        var allowed = ctx.RequestServices.GetRequiredService<SettingsService>().Current.CorsAllowOrigins;
        var any = allowed.Contains("*");
        if (any || allowed.Any(a => string.Equals(a.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase)))
        {
            ctx.Response.Headers.AccessControlAllowOrigin = any ? "*" : origin;
            ctx.Response.Headers.Vary = "Origin";
            if (HttpMethods.IsOptions(ctx.Request.Method) && ctx.Request.Headers.AccessControlRequestMethod.Count > 0)
            {
                ctx.Response.Headers.AccessControlAllowMethods = "GET, POST, PUT, DELETE, OPTIONS";
                ctx.Response.Headers.AccessControlAllowHeaders = "Authorization, Content-Type";
                ctx.Response.Headers.AccessControlMaxAge = "600";
                ctx.Response.StatusCode = 204;
                return;
            }
        }
        await next();
    }

    /// <summary>After a committed configuration write: the relay reloads its snapshot.</summary>
    public static Task ConfigChangedAsync(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<Hosting.ConfigChangeSignal>().NotifyChanged(CancellationToken.None);
}
