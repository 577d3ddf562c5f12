using Octopus.Stats;

namespace Octopus.Admin;

/// <summary>
/// GET /logs/cleanup: what the retention cleanup would remove now (rows and bytes), without removing anything.
/// POST /logs/cleanup: runs it now (it also runs hourly) and reports what went.
/// </summary>
internal static class LogCleanupApi
{
    public static void MapLogCleanup(this RouteGroupBuilder api)
    {
        api.MapGet("/logs/cleanup", async (LogRetention retention, CancellationToken ct) =>
        {
            var (logsBefore, bodiesBefore) = retention.Cutoffs();
            var preview = await retention.PreviewAsync(ct);
            return ApiResults.Json(new LogCleanupPreviewReply(preview.Logs, preview.Bodies, preview.Bytes, Times.Format(logsBefore), Times.Format(bodiesBefore)),
                AdminJsonContext.Default.LogCleanupPreviewReply);
        });
        api.MapPost("/logs/cleanup", async (LogRetention retention, CancellationToken ct) =>
        {
            var (logs, bodies) = await retention.RunOnceAsync(ct);
            return ApiResults.Json(new LogCleanupReply(logs, bodies), AdminJsonContext.Default.LogCleanupReply);
        });
    }
}

/// <summary>Bytes: the stored text of the rows that would go, plus ~200 bytes per log row.</summary>
internal sealed record LogCleanupPreviewReply(long Logs, long Bodies, long Bytes, string LogsBefore, string BodiesBefore);

internal sealed record LogCleanupReply(long Logs, long Bodies);
