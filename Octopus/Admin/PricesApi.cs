using Octopus.Sync;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>/prices: effective price per model (override wins over synced), overrides, sync, models without price.</summary>
internal static class PricesApi
{
    public static void MapPrices(this RouteGroupBuilder api)
    {
        api.MapGet("/prices", async (PriceStore store, CancellationToken ct) =>
            ApiResults.Json(Effective(await store.ListAsync(ct)), AdminJsonContext.Default.ListPriceDto));

        api.MapGet("/prices/missing", async (PriceStore prices, ChannelStore channels, GroupStore groups, CancellationToken ct) =>
        {
            var priced = (await prices.ListAsync(ct)).Select(p => p.Model).ToHashSet(StringComparer.Ordinal);
            var used = (await channels.ListAsync(ct)).SelectMany(c => c.Models.Concat(c.SyncedModels))
                .Concat((await groups.ListAsync(ct)).SelectMany(g => g.Members.Select(m => m.Model)));
            var missing = used.Where(m => !priced.Contains(m)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            return ApiResults.Json(missing, AdminJsonContext.Default.ListString);
        });

        // Model ids may contain slashes (openrouter-style `vendor/model`), hence the catch-all.
        api.MapPut("/prices/{**model}", async (string model, HttpContext ctx, PriceStore store) =>
        {
            var (input, error) = await JsonInput.ReadAsync(ctx, ["input", "output", "cache_read", "cache_write", "image", "model", "source", "synced", "updated_at"]);
            if (error is not null) return error;
            var price = new Price
            {
                Model = model,
                Input = input!.Double("input", min: 0, required: true) ?? 0,
                Output = input.Double("output", min: 0, required: true) ?? 0,
                CacheRead = input.Double("cache_read", min: 0) ?? 0,
                CacheWrite = input.Double("cache_write", min: 0) ?? 0,
                Image = input.Double("image", min: 0) ?? 0,
            };
            if (string.IsNullOrWhiteSpace(model) || model.Length > 255) input.Fail("model", "must be a model name of 1-255 characters");
            if (!input.IsValid) return ApiResults.Invalid(input.Errors);
            await store.SetUserAsync(price, ctx.RequestAborted);
            await AdminEndpoints.ConfigChangedAsync(ctx);
            var all = Effective(await store.ListAsync(ctx.RequestAborted));
            return ApiResults.Json(all.First(p => p.Model == model), AdminJsonContext.Default.PriceDto);
        });

        api.MapDelete("/prices/{**model}", async (string model, HttpContext ctx, PriceStore store) =>
        {
            if (!await store.DeleteUserAsync(model, ctx.RequestAborted)) return ApiResults.NotFound("price override");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return Results.NoContent();
        });

        api.MapPost("/prices/sync", async (HttpContext ctx, ModelsDevSync sync) =>
        {
            try
            {
                var n = await sync.SyncAsync(ctx.RequestAborted);
                await AdminEndpoints.ConfigChangedAsync(ctx);
                return ApiResults.Json(new PriceSyncReply(n), AdminJsonContext.Default.PriceSyncReply);
            }
            catch (UpstreamException e)
            {
                return ApiResults.Json(new PriceSyncReply(0) { Error = new ErrorBody("price_sync_failed", e.Message) }, AdminJsonContext.Default.PriceSyncReply, 502);
            }
        });
    }

    /// <summary>One row per model: the override's numbers when there is one, with the synced numbers alongside.</summary>
    public static List<PriceDto> Effective(IReadOnlyList<Price> rows) =>
        rows.GroupBy(p => p.Model, StringComparer.Ordinal)
            .Select(g =>
            {
                var user = g.FirstOrDefault(p => p.Source == PriceSource.User);
                var synced = g.FirstOrDefault(p => p.Source == PriceSource.Synced);
                var eff = user ?? synced!;
                return new PriceDto
                {
                    Model = g.Key,
                    Input = eff.Input,
                    Output = eff.Output,
                    CacheRead = eff.CacheRead,
                    CacheWrite = eff.CacheWrite,
                    Image = eff.Image,
                    Source = eff.Source,
                    Synced = synced is null ? null : new PriceValuesDto(synced.Input, synced.Output, synced.CacheRead, synced.CacheWrite, synced.Image),
                    UpdatedAt = Times.Format(eff.UpdatedAt),
                };
            })
            .OrderBy(p => p.Model, StringComparer.Ordinal)
            .ToList();
}
