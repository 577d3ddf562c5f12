using System.Threading.Channels;
using Octopus.Domain;
using Channel = System.Threading.Channels.Channel;
using Octopus.Storage;

namespace Octopus.Stats;

/// <summary>
/// Writes request logs in batches from a bounded queue on a background task. The relay only enqueues; when the
/// database is down the batch is retried and the queue absorbs new logs up to its bound (beyond it, logs are
/// dropped and counted — stats counts are kept separately and are never dropped).
/// </summary>
internal sealed class RequestLogWriter : IAsyncDisposable
{
    public const int Capacity = 20_000;
    private const int BatchSize = 500;
    private readonly Channel<(RequestLog Log, RequestBody? Body)> _queue =
        Channel.CreateBounded<(RequestLog, RequestBody?)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly RequestLogStore _store;
    private readonly ILogger<RequestLogWriter> _log;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();
    private long _dropped;
    private long _written;
    private long _failures;

    public RequestLogWriter(RequestLogStore store, ILogger<RequestLogWriter> log)
    {
        _store = store;
        _log = log;
        _loop = Task.Run(RunAsync);
    }

    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);
    public long WriteFailures => Interlocked.Read(ref _failures);
    public int Queued => _queue.Reader.Count;

    public void Enqueue(RequestLog log, RequestBody? body)
    {
        if (!_queue.Writer.TryWrite((log, body))) Interlocked.Increment(ref _dropped);
    }

    private async Task RunAsync()
    {
        var logs = new List<RequestLog>(BatchSize);
        var bodies = new List<RequestBody>();
        var reader = _queue.Reader;
        var backoff = TimeSpan.FromSeconds(1);
        var warned = false;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Gather what is there now (up to a batch); a short pause lets bursts coalesce.
            if (reader.Count < BatchSize && !_stop.IsCancellationRequested)
                await Task.Delay(200).ConfigureAwait(false);
            while (logs.Count < BatchSize && reader.TryRead(out var item))
            {
                logs.Add(item.Log);
                if (item.Body is not null) bodies.Add(item.Body);
            }
            while (true)
            {
                try
                {
                    await _store.InsertAsync(logs, bodies, CancellationToken.None).ConfigureAwait(false);
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
                    try { await Task.Delay(backoff, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
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
            await _loop.WaitAsync(ct).ConfigureAwait(false);
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
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); } catch (Exception) { }
        _stop.Dispose();
    }
}
