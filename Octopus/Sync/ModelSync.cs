using System.Text.RegularExpressions;
using Octopus.Admin;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Sync;

/// <summary>Lists a channel's upstream models, applies its regex filter and stores them as its synced models.</summary>
internal sealed class ModelSync(ChannelStore store, UpstreamClient upstream)
{
    public sealed record Result(List<string> Models, List<string> Added, List<string> Removed);

    /// <summary>Throws <see cref="UpstreamException"/> when the upstream cannot list models.</summary>
    public async Task<Result> SyncAsync(Channel channel, CancellationToken ct)
    {
        var key = channel.Keys.FirstOrDefault(k => k.Enabled) ?? channel.Keys.FirstOrDefault()
            ?? throw new UpstreamException("the channel has no key to list models with");
        if (channel.BaseUrls.Count == 0) throw new UpstreamException("the channel has no base URL");
        var models = Filter(await upstream.ListModelsAsync(channel.Type, channel.BaseUrls[0].Url, key.Secret, channel.Headers, channel.Proxy, ct), channel.ModelFilter);
        await store.UpdateSyncedModelsAsync(channel.Id, models, ct);
        return new Result(models,
            models.Except(channel.SyncedModels, StringComparer.Ordinal).ToList(),
            channel.SyncedModels.Except(models, StringComparer.Ordinal).ToList());
    }

    /// <summary>Keeps the models matching the channel's regex (all when there is none).</summary>
    public static List<string> Filter(List<string> models, string? pattern)
    {
        if (string.IsNullOrEmpty(pattern)) return models;
        var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        return models.Where(m =>
        {
            try { return regex.IsMatch(m); }
            catch (RegexMatchTimeoutException) { return false; }
        }).ToList();
    }
}
