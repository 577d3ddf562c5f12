using System.Text.Json.Serialization;

namespace Octopus.Hosting;

internal static class HealthEndpoints
{
    public static void MapHealth(this WebApplication app, Func<CancellationToken, Task<string?>> databaseProblem)
    {
        // Process is up.
        app.MapGet("/healthz", () => TypedResults.Json(new HealthReply("ok", null), HostingJsonContext.Default.HealthReply));

        // Database reachable: 503 with the reason otherwise (no secrets in it).
        app.MapGet("/readyz", async (CancellationToken ct) =>
        {
            var problem = await databaseProblem(ct);
            return problem is null
                ? TypedResults.Json(new HealthReply("ok", null), HostingJsonContext.Default.HealthReply)
                : TypedResults.Json(new HealthReply("unavailable", problem), HostingJsonContext.Default.HealthReply, statusCode: 503);
        });
    }
}

internal sealed record HealthReply(string Status, string? Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthReply))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
