using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Moves the aggregator's counts to the database every `stats_save_interval` minutes and once more at shutdown.
/// Writes are additive upserts, so restarts and other instances never overwrite counts; a failed write puts the
/// counts back in memory for the next try.
/// </summary>
internal sealed class StatsFlusher(StatsAggregator aggregator, StatsStore store, ILogger<StatsFlusher> log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private Task? _loop;
    private bool _failing;
    private long _failures;

    public long FlushFailures => Interlocked.Read(ref _failures);

    public void Start(Func<TimeSpan> interval) => _loop = Task.Run(() => RunAsync(interval));

    private async Task RunAsync(Func<TimeSpan> interval)
    {
        while (!_stop.IsCancellationRequested)
        {
            // While the database is failing, retry sooner than the normal interval.
            var wait = _failing ? TimeSpan.FromSeconds(Math.Min(10, interval().TotalSeconds)) : interval();
            try { await Task.Delay(wait, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Writes what is in memory; returns false (counts kept in memory) when the database refused.</summary>
    public async Task<bool> FlushAsync(CancellationToken ct)
    {
        await _flushLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var deltas = aggregator.TakeAll();
            if (deltas.Count == 0) return true;
            try
            {
                await store.AddAsync(deltas, ct).ConfigureAwait(false);
                if (_failing) log.LogInformation("Stats flush succeeded again ({Rows} rows)", deltas.Count);
                _failing = false;
                aggregator.Trim();
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                aggregator.Restore(deltas);
                Interlocked.Increment(ref _failures);
                if (!_failing) log.LogWarning("Stats flush failed, counts kept in memory and retried: {Error}", e.Message);
                _failing = true;
                return false;
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>Final flush at shutdown, retried for as long as <paramref name="ct"/> allows.</summary>
    public async Task FinalFlushAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _disposed) == 0) _stop.Cancel();
        while (!await FlushAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try { await Task.Delay(500, ct).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                log.LogError("Shutdown: stats could not be written; {Rows} rows are lost", aggregator.Pending().Count);
                return;
            }
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
