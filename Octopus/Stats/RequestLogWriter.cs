using System.Threading.Channels;
using Octopus.Domain;
using Channel = System.Threading.Channels.Channel;
using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Writes request logs in batches from a bounded queue on a thread of its own. The relay only enqueues; when the
/// database is down the batch is retried and the queue absorbs new logs up to its bound (beyond it, logs are
/// dropped and counted — stats counts are kept separately and are never dropped).
/// Not a thread-pool task: a SQLite batch is milliseconds of synchronous work, and holding a pool worker that long
/// made the pool add a third worker beside the relay's two on a 2-core machine, which cost every request more
/// context switches (scripts/bench.sh, stats on against off).
/// </summary>
internal sealed class RequestLogWriter : IAsyncDisposable
{
    public const int Capacity = 20_000;
    private const int BatchSize = 500;
    private readonly Channel<(RequestLog Log, RequestBody? Body)> _queue =
        Channel.CreateBounded<(RequestLog, RequestBody?)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly RequestLogStore _store;
    private readonly ILogger<RequestLogWriter> _log;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _dropped;
    private long _written;
    private long _failures;

    public RequestLogWriter(RequestLogStore store, ILogger<RequestLogWriter> log)
    {
        _store = store;
        _log = log;
        new Thread(Run) { IsBackground = true, Name = "Octopus log writer" }.Start();
    }

    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);
    public long WriteFailures => Interlocked.Read(ref _failures);
    public int Queued => _queue.Reader.Count;

    public void Enqueue(RequestLog log, RequestBody? body)
    {
        if (!_queue.Writer.TryWrite((log, body))) Interlocked.Increment(ref _dropped);
    }

    private void Run()
    {
        try
        {
            Loop();
            _done.TrySetResult();
        }
        catch (Exception e)
        {
            _log.LogError(e, "The request log writer stopped");
            _done.TrySetException(e);
        }
    }

    private void Loop()
    {
        var logs = new List<RequestLog>(BatchSize);
        var bodies = new List<RequestBody>();
        var reader = _queue.Reader;
        var stop = _stop.Token.WaitHandle;
        var backoff = TimeSpan.FromSeconds(1);
        var warned = false;
        while (reader.Count > 0 || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            // Gather what is there now (up to a batch); a short pause lets bursts coalesce.
            if (reader.Count < BatchSize && !_stop.IsCancellationRequested)
                stop.WaitOne(200);
            while (logs.Count < BatchSize && reader.TryRead(out var item))
            {
                logs.Add(item.Log);
                if (item.Body is not null) bodies.Add(item.Body);
            }
            while (true)
            {
                try
                {
                    // SQLite completes synchronously; PostgreSQL and MySQL block this thread, not the pool.
                    _store.InsertAsync(logs, bodies, CancellationToken.None).GetAwaiter().GetResult();
                    Interlocked.Add(ref _written, logs.Count);
                    if (warned) _log.LogInformation("Request logs are being written again");
                    warned = false;
                    backoff = TimeSpan.FromSeconds(1);
                    break;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref _failures);
                    if (!warned) _log.LogWarning("Writing {Count} request logs failed, will retry: {Error}", logs.Count, e.Message);
                    warned = true;
                    if (_stop.IsCancellationRequested) return; // shutting down: give up after the final attempt
                    stop.WaitOne(backoff);
                    backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
                }
            }
            logs.Clear();
            bodies.Clear();
        }
    }

    /// <summary>Stops accepting and writes what is queued (bounded by <paramref name="ct"/>).</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _done.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _stop.Cancel();
            _log.LogWarning("Shutdown: {Count} request logs could not be written in time", _queue.Reader.Count);
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _queue.Writer.TryComplete();
        _stop.Cancel();
        try { await _done.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); } catch (Exception) { }
        if (_done.Task.IsCompleted) _stop.Dispose(); // a writer still stuck in the database keeps its handle
    }
}
