using Octopus.Hosting;
using Octopus.Storage;

namespace Octopus.Relay.Routing;

/// <summary>Holds the current <see cref="RelaySnapshot"/> and rebuilds it from the stores on config changes.</summary>
internal sealed class SnapshotService
{
    private readonly ChannelStore _channels;
    private readonly GroupStore _groups;
    private readonly ApiKeyStore _apiKeys;
    private readonly RoutingRuleStore _routes;
    private readonly ILogger<SnapshotService> _log;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private volatile RelaySnapshot _current = RelaySnapshot.Empty;

    public SnapshotService(ChannelStore channels, GroupStore groups, ApiKeyStore apiKeys, RoutingRuleStore routes, ConfigChangeSignal signal, ILogger<SnapshotService> log)
    {
        _channels = channels;
        _groups = groups;
        _apiKeys = apiKeys;
        _routes = routes;
        _log = log;
        signal.Subscribe(ReloadAsync);
    }

    public RelaySnapshot Current => _current;

    public event Action<RelaySnapshot>? Swapped;

    /// <summary>Loads everything and swaps it in. On a database error the previous snapshot stays live.</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        await _reloadLock.WaitAsync(ct);
        try
        {
            var channels = await _channels.ListAsync(ct);
            var groups = await _groups.ListAsync(ct);
            var keys = await _apiKeys.ListAsync(ct);
            var routes = await _routes.ListAsync(ct);
            var snapshot = new RelaySnapshot(channels, groups, keys, routes);
            _current = snapshot;
            Swapped?.Invoke(snapshot);
            _log.LogDebug("Relay configuration loaded: {Channels} channels, {Groups} groups, {Keys} API keys, {Routes} routes", channels.Count, groups.Count, keys.Count, routes.Count);
        }
        finally
        {
            _reloadLock.Release();
        }
    }
}
