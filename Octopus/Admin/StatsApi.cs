using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>
/// /stats: all-time total, summary, series and top-N for the dashboard. Stored hourly rows plus what the stats
/// aggregator still holds in memory (<see cref="IUnflushedStats"/>, when registered).
/// </summary>
internal static class StatsApi
{
    public static void MapStats(this RouteGroupBuilder api)
    {
        api.MapGet("/stats/total", async (HttpContext ctx, StatsStore store) =>
        {
            var t = (await store.TotalsAsync(new StatsFilter(), ctx.RequestAborted)).Add(StatsTotals.Sum(Pending(ctx)));
            return ApiResults.Json(new StatsTotalReply(t.Requests, t.RequestsOk, t.RequestsFailed, t.InputTokens, t.OutputTokens, t.Cost), AdminJsonContext.Default.StatsTotalReply);
        });

        api.MapGet("/stats/summary", async (HttpContext ctx, StatsStore store) =>
        {
            if (Range(ctx, TimeSpan.FromDays(1), out var filter) is { } bad) return bad;
            var t = (await store.TotalsAsync(filter, ctx.RequestAborted)).Add(StatsTotals.Sum(Pending(ctx), filter));
            return ApiResults.Json(new StatsSummaryReply(
                t.Requests, t.RequestsOk, t.RequestsFailed, Ratio(t.RequestsOk, t.Requests), t.InputTokens, t.OutputTokens,
                t.CacheReadTokens, t.CacheWriteTokens, t.Cost, Ratio(t.CacheReadTokens, t.InputTokens)), AdminJsonContext.Default.StatsSummaryReply);
        });

        api.MapGet("/stats/series", async (HttpContext ctx, StatsStore store) =>
        {
            var intervalText = ctx.Request.Query["interval"].ToString();
            if (intervalText is not ("" or "hour" or "day")) return ApiResults.Invalid("interval", "must be hour or day");
            var interval = intervalText == "day" ? StatsInterval.Day : StatsInterval.Hour;
            var size = interval == StatsInterval.Day ? 86400L : 3600L;
            if (Range(ctx, interval == StatsInterval.Day ? TimeSpan.FromDays(30) : TimeSpan.FromDays(1), out var filter) is { } bad) return bad;
            var stored = await store.SeriesAsync(filter, interval, ctx.RequestAborted);
            var buckets = stored.ToDictionary(p => p.Time, p => p.Totals);
            foreach (var d in Pending(ctx).Where(d => StatsTotals.Matches(filter, d)))
            {
                var t = d.Hour - ((d.Hour % size) + size) % size;
                buckets[t] = (buckets.TryGetValue(t, out var have) ? have : StatsTotals.Zero).Add(StatsTotals.From(d));
            }
            // Every bucket of the range, zeros included, so charts need no gap logic (bounded to 5000 points).
            var first = filter.FromHour!.Value - ((filter.FromHour.Value % size) + size) % size;
            var points = new List<StatsPointDto>();
            for (var t = first; t < filter.ToHour!.Value && points.Count < 5000; t += size)
            {
                var v = buckets.TryGetValue(t, out var x) ? x : StatsTotals.Zero;
                points.Add(new StatsPointDto(Times.Format(t * 1000), v.Requests, v.RequestsFailed, v.InputTokens, v.OutputTokens, v.Cost));
            }
            return ApiResults.Json(new StatsSeriesReply(points), AdminJsonContext.Default.StatsSeriesReply);
        });

        api.MapGet("/stats/top", async (HttpContext ctx, StatsStore store, ChannelStore channels, ApiKeyStore keys) =>
        {
            StatsDimension by;
            switch (ctx.Request.Query["by"].ToString())
            {
                case "channel": by = StatsDimension.Channel; break;
                case "model" or "": by = StatsDimension.Model; break;
                case "api_key": by = StatsDimension.ApiKey; break;
                case "group": by = StatsDimension.Group; break;
                default: return ApiResults.Invalid("by", "must be channel, model, api_key or group");
            }
            var errors = new Dictionary<string, string>();
            var limit = (int)(LogsApi.QueryLong(ctx.Request.Query["limit"], "limit", errors, 1, 100) ?? 10);
            if (errors.Count > 0) return ApiResults.Invalid(errors);
            if (Range(ctx, TimeSpan.FromDays(1), out var filter) is { } bad) return bad;

            var rows = (await store.TopAsync(by, filter, 1000, ctx.RequestAborted)).ToDictionary(r => r.Key, r => r.Totals);
            foreach (var d in Pending(ctx).Where(d => StatsTotals.Matches(filter, d)))
            {
                var key = by switch
                {
                    StatsDimension.Channel => d.ChannelId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    StatsDimension.ApiKey => d.ApiKeyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    StatsDimension.Group => d.GroupName,
                    _ => d.Model,
                };
                rows[key] = (rows.TryGetValue(key, out var have) ? have : StatsTotals.Zero).Add(StatsTotals.From(d));
            }
            var names = by switch
            {
                StatsDimension.Channel => (await channels.ListAsync(ctx.RequestAborted)).ToDictionary(c => c.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), c => c.Name),
                StatsDimension.ApiKey => (await keys.ListAsync(ctx.RequestAborted)).ToDictionary(k => k.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), k => k.Name),
                _ => [],
            };
            var top = rows
                .OrderByDescending(r => r.Value.Requests).ThenByDescending(r => r.Value.Cost).ThenBy(r => r.Key, StringComparer.Ordinal)
                .Take(limit)
                .Select(r => new StatsTopDto(r.Key, names.TryGetValue(r.Key, out var n) ? n : r.Key, r.Value.Requests, r.Value.RequestsFailed,
                    r.Value.InputTokens, r.Value.OutputTokens, r.Value.Cost, Ratio(r.Value.CacheReadTokens, r.Value.InputTokens)))
                .ToList();
            return ApiResults.Json(top, AdminJsonContext.Default.ListStatsTopDto);
        });
    }

    private static IReadOnlyCollection<StatsDelta> Pending(HttpContext ctx) =>
        ctx.RequestServices.GetService<IUnflushedStats>()?.Pending() ?? [];

    private static double Ratio(long part, long whole) => whole <= 0 ? 0 : (double)part / whole;

    /// <summary>from/to (RFC 3339 or unix ms; default: the last <paramref name="defaultSpan"/>) as whole hours.</summary>
    private static IResult? Range(HttpContext ctx, TimeSpan defaultSpan, out StatsFilter filter)
    {
        var errors = new Dictionary<string, string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var to = LogsApi.QueryTime(ctx.Request.Query["to"], "to", errors) ?? now;
        var from = LogsApi.QueryTime(ctx.Request.Query["from"], "from", errors) ?? to - (long)defaultSpan.TotalMilliseconds;
        if (errors.Count == 0 && from > to) errors["from"] = "must not be after to";
        filter = new StatsFilter
        {
            FromHour = Math.DivRem(from, 3_600_000L).Quotient * 3600 - (from < 0 && from % 3_600_000 != 0 ? 3600 : 0),
            // The hour holding `to` is included.
            ToHour = (to / 3_600_000L + 1) * 3600,
        };
        return errors.Count > 0 ? ApiResults.Invalid(errors) : null;
    }
}
