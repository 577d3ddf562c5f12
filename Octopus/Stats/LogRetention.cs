using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Enforces `log_retention_days` (metadata) and `body_retention_days` (captured bodies, kept shorter) once an hour.
/// Deletes in small batches so writers are never held long, then gives the space back (SQLite incremental vacuum).
/// </summary>
internal sealed class LogRetention(RequestLogStore store, TimeProvider clock, ILogger<LogRetention> log) : IAsyncDisposable
{
    public const int BatchSize = 1000;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _disposed;

    public int LogRetentionDays { get; set; } = 30;
    public int BodyRetentionDays { get; set; } = 3;

    public void Start(TimeSpan interval) => _loop = Task.Run(async () =>
    {
        // First pass shortly after start, so a gateway restarted daily still cleans up.
        var wait = TimeSpan.FromMinutes(1);
        while (!_stop.IsCancellationRequested)
        {
            try { await Task.Delay(wait, _stop.Token); }
            catch (OperationCanceledException) { return; }
            wait = interval;
            try
            {
                await RunOnceAsync(_stop.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("Log cleanup failed, will retry: {Error}", e.Message);
            }
        }
    });

    public (long LogsBefore, long BodiesBefore) Cutoffs()
    {
        var now = clock.GetUtcNow();
        return (now.AddDays(-LogRetentionDays).ToUnixTimeMilliseconds(), now.AddDays(-BodyRetentionDays).ToUnixTimeMilliseconds());
    }

    public Task<CleanupPreview> PreviewAsync(CancellationToken ct)
    {
        var (logsBefore, bodiesBefore) = Cutoffs();
        return store.PreviewCleanupAsync(logsBefore, bodiesBefore, ct);
    }

    /// <summary>Deletes what is past retention; returns (log rows, body rows) removed.</summary>
    public async Task<(long Logs, long Bodies)> RunOnceAsync(CancellationToken ct)
    {
        var (logsBefore, bodiesBefore) = Cutoffs();
        var bodies = await store.DeleteBodiesBeforeAsync(bodiesBefore, BatchSize, ct);
        var logs = await store.DeleteLogsBeforeAsync(logsBefore, BatchSize, ct);
        if (logs + bodies > 0)
        {
            await store.ReclaimSpaceAsync(ct);
            log.LogInformation("Log cleanup removed {Logs} request logs and {Bodies} bodies", logs, bodies);
        }
        return (logs, bodies);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }
}
