using System.Collections.Concurrent;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Writes request logs in batches from a bounded queue on a thread of its own. The relay only enqueues; when the
/// database is down the batch is retried and the queue absorbs new logs up to its bound (beyond it, logs are
/// dropped and counted — stats counts are kept separately and are never dropped).
/// Not a thread-pool task: a SQLite batch is milliseconds of synchronous work, and holding a pool worker that long
/// made the pool add a third worker beside the relay's two on a 2-core machine, which cost every request more
/// context switches (scripts/bench.sh, stats on against off). The queue is lock-free: a bounded Channel took a lock
/// on every enqueue, which the relay's threads and the writer's batch reads contended for.
/// </summary>
internal sealed class RequestLogWriter : IAsyncDisposable
{
    public const int Capacity = 20_000;
    private const int BatchSize = 500;
    private static readonly TimeSpan MaxBatchWait = TimeSpan.FromMilliseconds(200);
    private readonly ConcurrentQueue<(RequestLog Log, RequestBody? Body)> _queue = new();
    private int _count; // entries reserved in the queue, the bound's measure
    private int _completed; // 1 once shutdown began: later logs are dropped (and counted), queued ones still written
    // Set by Enqueue while the writer sleeps on an empty queue (_idle = 1), and when a batch is full.
    private readonly ManualResetEventSlim _wake = new(false);
    private int _idle;
    private readonly RequestLogStore _store;
    private readonly ILogger<RequestLogWriter> _log;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _dropped;
    private long _written;
    private long _failures;
    private long _reminted;
    // Past this many clashes in a row for one batch, each new attempt waits the failure backoff first.
    private const int MaxIdClashes = 8;

    public RequestLogWriter(RequestLogStore store, ILogger<RequestLogWriter> log)
    {
        _store = store;
        _log = log;
        new Thread(Run) { IsBackground = true, Name = "Octopus log writer" }.Start();
    }

    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);
    public long WriteFailures => Interlocked.Read(ref _failures);
    /// <summary>Batches written under new ids after clashing with another instance's.</summary>
    public long Reminted => Interlocked.Read(ref _reminted);
    public int Queued => Volatile.Read(ref _count);

    public void Enqueue(RequestLog log, RequestBody? body)
    {
        // Reserve first, then look at _completed (both full fences): either this sees the shutdown and backs out, or
        // the writer, which exits only when completed with nothing reserved, waits for this entry.
        var count = Interlocked.Increment(ref _count);
        if (count > Capacity || Volatile.Read(ref _completed) == 1)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _queue.Enqueue((log, body)); // its CAS is a full fence: the idle flag below is read after the entry is visible
        if (count == BatchSize || Volatile.Read(ref _idle) == 1) _wake.Set();
    }

    /// <summary>Blocks until an entry is queued or the writer is completed; false when completed and empty.</summary>
    private bool WaitForEntries()
    {
        while (_queue.IsEmpty)
        {
            if (Volatile.Read(ref _completed) == 1)
            {
                if (Volatile.Read(ref _count) == 0) return false;
                Thread.Yield(); // an Enqueue that reserved before the shutdown is about to add its entry
                continue;
            }
            _wake.Reset();
            Interlocked.Exchange(ref _idle, 1); // a full fence: an Enqueue after the check below sees the flag
            if (_queue.IsEmpty && Volatile.Read(ref _completed) == 0) _wake.Wait();
            Volatile.Write(ref _idle, 0);
        }
        return true;
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
        var stop = _stop.Token.WaitHandle;
        var backoff = TimeSpan.FromSeconds(1);
        var warned = false;
        // Waits before the next attempt, doubling up to 30 s; false when shutting down (give up after the final attempt).
        bool Backoff()
        {
            if (_stop.IsCancellationRequested) return false;
            stop.WaitOne(backoff);
            backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            return true;
        }
        while (WaitForEntries())
        {
            // Less than a batch: wait up to 200 ms for a full one, so that rows go in big transactions. Not longer
            // than it takes to fill: logs that wait in the queue through garbage collections get promoted to older
            // generations, which made collections on the relay's threads dearer.
            _wake.Reset();
            if (Volatile.Read(ref _count) < BatchSize && Volatile.Read(ref _completed) == 0 && !_stop.IsCancellationRequested)
                _wake.Wait(MaxBatchWait);
            while (logs.Count < BatchSize && _queue.TryDequeue(out var item))
            {
                logs.Add(item.Log);
                if (item.Body is not null) bodies.Add(item.Body);
            }
            Interlocked.Add(ref _count, -logs.Count);
            var clashes = 0;
            while (true)
            {
                try
                {
                    // SQLite completes synchronously; PostgreSQL and MySQL block this thread, not the pool (their replies
                    // are read on the socket event threads, and the batch continues from there row by row).
                    _store.InsertAsync(logs, bodies, CancellationToken.None).GetAwaiter().GetResult();
                    Interlocked.Add(ref _written, logs.Count);
                    if (warned) _log.LogInformation("Request logs are being written again");
                    warned = false;
                    backoff = TimeSpan.FromSeconds(1);
                    break;
                }
                catch (DuplicateNameException)
                {
                    // Another instance on this database minted the same ids (the same random instance number): retrying
                    // the batch as it is would fail forever and hold every later log back. The batch rolled back, so
                    // it is minted again under another instance number and written at once (with backoff if clashes
                    // keep coming). A server database whose commit went through but reported an error would see
                    // this batch twice; holding every later log back was worse.
                    clashes++;
                    LogIds.ChangeInstance();
                    Remint(logs, bodies);
                    Interlocked.Increment(ref _reminted);
                    if (clashes == 1) _log.LogWarning("Request log ids clashed with another Octopus instance's on this database; minting under instance number {Instance} from now on", LogIds.Instance);
                    if (clashes > MaxIdClashes && !Backoff()) return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref _failures);
                    if (!warned) _log.LogWarning("Writing {Count} request logs failed, will retry: {Error}", logs.Count, e.Message);
                    warned = true;
                    if (!Backoff()) return;
                }
            }
            logs.Clear();
            bodies.Clear();
        }
    }

    /// <summary>
    /// New ids for a batch that clashed, its bodies following their logs: the same times and counters under the new
    /// instance number, so an id's time stays its log's arrival time (the log table's time filters rely on it). Logs
    /// queued across an earlier change of instance can share a time and counter; such a one takes the next instance
    /// number free in this batch.
    /// </summary>
    private static void Remint(List<RequestLog> logs, List<RequestBody> bodies)
    {
        var instance = LogIds.Instance;
        var ids = new Dictionary<long, long>(logs.Count);
        var taken = new HashSet<long>(logs.Count);
        for (var i = 0; i < logs.Count; i++)
        {
            var id = LogIds.WithInstance(logs[i].Id, instance);
            for (var k = 1; !taken.Add(id) && k < 32; k++) id = LogIds.WithInstance(logs[i].Id, instance + k);
            ids[logs[i].Id] = id;
            logs[i] = logs[i] with { Id = id };
        }
        for (var i = 0; i < bodies.Count; i++)
            if (ids.TryGetValue(bodies[i].LogId, out var id)) bodies[i] = bodies[i] with { LogId = id };
    }

    /// <summary>Stops accepting and writes what is queued (bounded by <paramref name="ct"/>).</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        Complete();
        try
        {
            await _done.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _stop.Cancel();
            _log.LogWarning("Shutdown: {Count} request logs could not be written in time", Queued);
        }
    }

    private void Complete()
    {
        Interlocked.Exchange(ref _completed, 1);
        _wake.Set();
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Complete();
        _stop.Cancel();
        try { await _done.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); } catch (Exception) { }
        if (!_done.Task.IsCompleted) return; // a writer still stuck in the database keeps its handles
        _stop.Dispose();
        _wake.Dispose();
    }
}
