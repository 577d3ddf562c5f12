using Octopus.Admin;
using Octopus.Hosting;
using Octopus.Pricing;
using Octopus.Relay.Routing;
using Octopus.Settings;

namespace Octopus.Sync;

/// <summary>
/// Runs the price sync every `price_sync_interval_hours` and the model sync of channels with auto-sync every
/// `model_sync_interval_hours` (0 turns either off). A failure keeps what is stored and logs one warning per streak.
/// </summary>
internal sealed class SyncScheduler(ModelsDevSync prices, ModelSync models, PriceBook priceBook, SnapshotService snapshots,
    SettingsService settings, ConfigChangeSignal signal, TimeProvider clock, ILogger<SyncScheduler> log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _disposed;
    private DateTimeOffset _lastPriceSync = DateTimeOffset.MinValue;
    private DateTimeOffset _lastModelSync = DateTimeOffset.MinValue;
    private bool _priceFailing;
    private readonly HashSet<long> _modelFailing = [];

    /// <summary>How often the scheduler wakes to see what is due.</summary>
    public TimeSpan Tick { get; set; } = TimeSpan.FromMinutes(1);

    public void Start() => _loop = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            try { await Task.Delay(Tick, _stop.Token); }
            catch (OperationCanceledException) { return; }
            try { await RunDueAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
        }
    });

    /// <summary>Makes both syncs due at the next check (a settings change that shortens an interval, tests).</summary>
    internal void MakeDue()
    {
        _lastPriceSync = DateTimeOffset.MinValue;
        _lastModelSync = DateTimeOffset.MinValue;
    }

    public async Task RunDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var s = settings.Current;
        if (s.PriceSyncIntervalHours > 0 && now - _lastPriceSync >= TimeSpan.FromHours(s.PriceSyncIntervalHours))
        {
            _lastPriceSync = now;
            await SyncPricesAsync(ct);
        }
        if (s.ModelSyncIntervalHours > 0 && now - _lastModelSync >= TimeSpan.FromHours(s.ModelSyncIntervalHours))
        {
            _lastModelSync = now;
            await SyncModelsAsync(ct);
        }
    }

    private async Task SyncPricesAsync(CancellationToken ct)
    {
        try
        {
            var n = await prices.SyncAsync(ct);
            await priceBook.ReloadAsync(ct);
            log.LogInformation("Price sync: {Count} model prices updated", n);
            _priceFailing = false;
        }
        catch (Exception e) when (e is UpstreamException or Storage.StoreUnavailableException)
        {
            if (!_priceFailing) log.LogWarning("Price sync failed, keeping the stored prices: {Error}", e.Message);
            _priceFailing = true;
        }
    }

    private async Task SyncModelsAsync(CancellationToken ct)
    {
        var changed = false;
        foreach (var channel in snapshots.Current.Channels.Values.Where(c => c.AutoSync && c.Enabled))
        {
            try
            {
                var result = await models.SyncAsync(channel, ct);
                changed |= result.Added.Count > 0 || result.Removed.Count > 0;
                _modelFailing.Remove(channel.Id);
            }
            catch (Exception e) when (e is UpstreamException or Storage.StoreUnavailableException)
            {
                if (_modelFailing.Add(channel.Id)) log.LogWarning("Model sync of channel {Channel} failed: {Error}", channel.Name, e.Message);
            }
        }
        if (changed) await signal.NotifyChanged(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }
}
