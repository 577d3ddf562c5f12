using System.Text.Json;
using Octopus.Settings;
using Octopus.Domain;
using Octopus.Storage;

using Octopus.Admin;

namespace Octopus.Sync;

/// <summary>
/// Price sync from a models.dev-style document (setting price_source_url): `{provider: {models: {id: {cost:
/// {input, output, cache_read, cache_write}}}}}`, USD per million tokens. A failure keeps the stored prices.
/// </summary>
internal sealed class ModelsDevSync(PriceStore prices, SettingsService settings)
{
    /// <summary>When a model id appears under several providers, the model's own maker wins.</summary>
    private static readonly string[] PreferredProviders = ["openai", "anthropic", "google", "deepseek", "xai", "mistral", "moonshotai", "alibaba", "zhipuai"];

    // The file is megabytes of JSON to parse and a price upsert follows: both run on the pool, not a socket thread.
    private static readonly HttpClient Http = new(new Hosting.PoolResumingHandler(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All }))
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Fetches, parses and upserts; returns how many prices were written. Throws UpstreamException on failure.</summary>
    public async Task<int> SyncAsync(CancellationToken ct)
    {
        var url = settings.Current.PriceSourceUrl;
        byte[] body;
        try
        {
            using var response = await Http.GetAsync(url, ct);
            if (!response.IsSuccessStatusCode) throw new UpstreamException($"price source answered {(int)response.StatusCode}");
            body = await response.Content.ReadAsByteArrayAsync(ct);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamException("cannot reach the price source: " + e.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new UpstreamException("the price source did not answer within 60 s");
        }
        var parsed = Parse(body);
        if (parsed.Count == 0) throw new UpstreamException("the price source lists no model costs");
        return await prices.UpsertSyncedAsync(parsed, ct);
    }

    public static List<Price> Parse(byte[] json)
    {
        var found = new Dictionary<string, (int Rank, Price Price)>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new UpstreamException("the price source is not a JSON object");
            foreach (var provider in doc.RootElement.EnumerateObject())
            {
                if (provider.Value.ValueKind != JsonValueKind.Object || !provider.Value.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Object)
                    continue;
                var rank = Array.IndexOf(PreferredProviders, provider.Name);
                if (rank < 0) rank = PreferredProviders.Length;
                foreach (var model in models.EnumerateObject())
                {
                    if (model.Value.ValueKind != JsonValueKind.Object || !model.Value.TryGetProperty("cost", out var cost) || cost.ValueKind != JsonValueKind.Object)
                        continue;
                    var id = model.Value.TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : model.Name;
                    var price = new Price
                    {
                        Model = id,
                        Input = Number(cost, "input"),
                        Output = Number(cost, "output"),
                        CacheRead = Number(cost, "cache_read"),
                        CacheWrite = Number(cost, "cache_write"),
                        Source = PriceSource.Synced,
                    };
                    if (!found.TryGetValue(id, out var have) || rank < have.Rank) found[id] = (rank, price);
                }
            }
        }
        catch (JsonException)
        {
            throw new UpstreamException("the price source is not valid JSON");
        }
        return found.Values.Select(v => v.Price).OrderBy(p => p.Model, StringComparer.Ordinal).ToList();
    }

    private static double Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) && d >= 0 ? d : 0;
}
