using System.Collections.Frozen;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Pricing;

/// <summary>
/// The effective price per model (a user override wins over the synced price), as an immutable table the relay
/// reads without locks. Reloaded after a sync or an edit.
/// </summary>
internal sealed class PriceBook(PriceStore store, ILogger<PriceBook> log)
{
    private volatile FrozenDictionary<string, Price> _prices = FrozenDictionary<string, Price>.Empty;

    public async Task ReloadAsync(CancellationToken ct)
    {
        var rows = await store.ListAsync(ct);
        var table = new Dictionary<string, Price>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in rows.Where(p => p.Source == PriceSource.Synced)) table[p.Model] = p;
        foreach (var p in rows.Where(p => p.Source == PriceSource.User)) table[p.Model] = p;
        _prices = table.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        log.LogDebug("Price table loaded: {Count} models", table.Count);
    }

    public int Count => _prices.Count;

    /// <summary>Exact model name, then without a provider prefix (`openai/gpt-4o` → `gpt-4o`).</summary>
    public bool TryGet(string? model, out Price price)
    {
        price = null!;
        if (string.IsNullOrEmpty(model)) return false;
        var prices = _prices;
        if (prices.TryGetValue(model, out price!)) return true;
        var slash = model.LastIndexOf('/');
        return slash >= 0 && prices.TryGetValue(model[(slash + 1)..], out price!);
    }

    /// <summary>USD for the usage: uncached input, cache reads, cache writes and output each at their own price.
    /// A missing cache price falls back to the input price (what providers without caching charge).</summary>
    public double Cost(string? model, in Usage usage)
    {
        if (!TryGet(model, out var p)) return 0;
        // A per-image price is the whole price of an image request; without one its tokens are priced.
        if (usage.Images > 0 && p.Image > 0) return usage.Images * p.Image;
        var cacheRead = p.CacheRead > 0 ? p.CacheRead : p.Input;
        var cacheWrite = p.CacheWrite > 0 ? p.CacheWrite : p.Input;
        return (usage.UncachedInputTokens * p.Input
                + usage.CacheReadTokens * cacheRead
                + usage.CacheWriteTokens * cacheWrite
                + usage.OutputTokens * p.Output) / 1_000_000d;
    }
}
