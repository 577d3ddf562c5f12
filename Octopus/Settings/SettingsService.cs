using Octopus.Storage;

namespace Octopus.Settings;

/// <summary>
/// The current settings in memory, reloaded after every settings write (and backup import). Readers take
/// <see cref="Current"/> (a snapshot) and never hit the database on a hot path.
/// </summary>
internal sealed class SettingsService(SettingStore store)
{
    private volatile Snapshot _snapshot = new(SettingsRegistry.WithDefaults(new Dictionary<string, string>()), SettingsRegistry.Parse(new Dictionary<string, string>()));

    private sealed record Snapshot(Dictionary<string, string> Values, OctopusSettings Typed);

    public OctopusSettings Current => _snapshot.Typed;

    /// <summary>Every registry setting in stored (text) form, defaults filled in.</summary>
    public IReadOnlyDictionary<string, string> Values => _snapshot.Values;

    public async Task ReloadAsync(CancellationToken ct)
    {
        var stored = await store.GetAllAsync(ct);
        _snapshot = new Snapshot(SettingsRegistry.WithDefaults(stored), SettingsRegistry.Parse(stored));
    }
}
