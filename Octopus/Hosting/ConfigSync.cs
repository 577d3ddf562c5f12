#if !SQLITE_ONLY
using Npgsql;
#endif
using Octopus.Settings;
using Octopus.Storage;

namespace Octopus.Hosting;

/// <summary>
/// Keeps several instances on one PostgreSQL or MySQL database consistent. Every local configuration change bumps
/// the shared version (and on PostgreSQL sends NOTIFY); every instance reloads when the version moves past what it
/// has applied. PostgreSQL delivers changes through LISTEN at once (reconnected after an outage) and polls as a
/// fallback; MySQL polls every second. SQLite (one process) needs none of it.
/// </summary>
internal sealed class ConfigSync(Database db, ConfigVersionStore versions, ConfigChangeSignal signal, SettingsService settings,
    ILogger<ConfigSync> log) : IAsyncDisposable
{
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _applied = -1;
    private volatile bool _listening = false;
    private Task? _poll;
    private Task? _listen = null;
#if !SQLITE_ONLY
    private NpgsqlDataSource? _listenerSource;
#endif
    private bool _pollFailing;

    /// <summary>How often the version is read: MySQL always, PostgreSQL while LISTEN is down.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>PostgreSQL with a live LISTEN connection: the poll is only a safety net.</summary>
    public TimeSpan ListeningPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>LISTEN connections opened since start (1 = never lost), for tests and logs.</summary>
    public int ListenConnects => _listenConnects;
    private int _listenConnects = 0;

    public bool Enabled => db.Kind != DbKind.Sqlite;

    public void Start()
    {
        if (!Enabled) return;
        signal.Publish = PublishAsync;
        _poll = Task.Run(PollLoopAsync);
#if !SQLITE_ONLY
        if (db.Kind == DbKind.Postgres)
        {
            _listenerSource = db.CreateListenerSource();
            _listen = Task.Run(ListenLoopAsync);
        }
#endif
    }

    /// <summary>After a local write: bump the shared version (PostgreSQL: NOTIFY) before this instance reloads.</summary>
    private async Task PublishAsync(CancellationToken ct)
    {
        long version;
        try
        {
            version = await versions.BumpAsync(_instance, ct);
        }
        catch (StoreUnavailableException e)
        {
            // The write itself committed; the others catch up through the poll once the version can be bumped again.
            log.LogWarning("Could not announce a configuration change to other instances: {Error}", e.Message);
            return;
        }
        var before = Interlocked.Exchange(ref _applied, Math.Max(version, Interlocked.Read(ref _applied)));
        // Someone else's change slipped in between: the local reload that follows must include their settings too.
        if (before < 0 || version > before + 1) await settings.ReloadAsync(ct);
    }

    private void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    private async Task PollLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var version = await versions.GetAsync(_stop.Token);
                if (_pollFailing) log.LogInformation("Configuration version readable again");
                _pollFailing = false;
                if (version != Interlocked.Read(ref _applied))
                {
                    // Read the version first: everything up to it is committed, so the reload sees it.
                    Interlocked.Exchange(ref _applied, version);
                    await settings.ReloadAsync(_stop.Token);
                    await signal.RunHandlersAsync(_stop.Token);
                    log.LogDebug("Configuration reloaded at version {Version}", version);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The relay keeps serving from its snapshot; the next round retries.
                if (!_pollFailing) log.LogWarning("Could not check for configuration changes from other instances: {Error}", e.Message);
                _pollFailing = true;
                Interlocked.Exchange(ref _applied, -1);
            }
            try
            {
                await _wake.WaitAsync(_listening ? ListeningPollInterval : PollInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

#if !SQLITE_ONLY
    private async Task ListenLoopAsync()
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = await _listenerSource!.OpenConnectionAsync(_stop.Token);
                conn.Notification += (_, e) =>
                {
                    if (e.Payload != _instance) Wake();
                };
                await using (var cmd = new NpgsqlCommand("LISTEN " + ConfigVersionStore.NotifyChannel, conn))
                    await cmd.ExecuteNonQueryAsync(_stop.Token);
                _listening = true;
                if (Interlocked.Increment(ref _listenConnects) > 1) log.LogInformation("Listening for configuration changes again");
                delay = TimeSpan.FromSeconds(1);
                // Whatever changed while we were not listening.
                Wake();
                while (true) await conn.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (_listening) log.LogWarning("Lost the configuration change listener connection: {Error}; reconnecting", e.Message);
                _listening = false;
                Wake();
            }
            try
            {
                await Task.Delay(delay, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

#endif

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        signal.Publish = null;
        _stop.Cancel();
        foreach (var t in new[] { _poll, _listen })
            if (t is not null) try { await t; } catch (OperationCanceledException) { }
#if !SQLITE_ONLY
        if (_listenerSource is not null) await _listenerSource.DisposeAsync();
#endif
        _stop.Dispose();
    }
}
