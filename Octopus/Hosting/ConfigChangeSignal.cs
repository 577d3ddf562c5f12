namespace Octopus.Hosting;

/// <summary>
/// Raised after any configuration write (channels, groups, keys, routes, settings) so the relay rebuilds its
/// in-memory snapshot. Admin writes call <see cref="NotifyChanged"/> after their transaction commits.
/// </summary>
internal sealed class ConfigChangeSignal
{
    private readonly List<Func<CancellationToken, Task>> _handlers = [];

    /// <summary>Set on a shared database (<see cref="ConfigSync"/>): tells the other instances, before the local reload.</summary>
    public Func<CancellationToken, Task>? Publish { get; set; }

    public void Subscribe(Func<CancellationToken, Task> handler)
    {
        lock (_handlers) _handlers.Add(handler);
    }

    /// <summary>Runs every handler; returns when the new configuration is live on this instance.</summary>
    public async Task NotifyChanged(CancellationToken ct = default)
    {
        if (Publish is { } publish) await publish(ct);
        await RunHandlersAsync(ct);
    }

    /// <summary>Reloads this instance only (a change another instance made).</summary>
    public async Task RunHandlersAsync(CancellationToken ct = default)
    {
        Func<CancellationToken, Task>[] handlers;
        lock (_handlers) handlers = [.. _handlers];
        foreach (var h in handlers) await h(ct);
    }
}
