using Octopus.Domain;
using Octopus.Relay;
using Octopus.Relay.Limits;
using Octopus.Relay.Routing;
using Octopus.Stats;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>
/// GET /self: a client key's own view (usage, budget left, limits and their current use), authenticated with that
/// key exactly as the relay does. Nothing here can name or reach another key: the key is the only input.
/// </summary>
internal static class SelfApi
{
    public static void MapSelf(this RouteGroupBuilder api) => api.MapGet("/self", GetAsync);

    private static async Task<IResult> GetAsync(HttpContext ctx, SnapshotService snapshots, StatsStore store, BudgetTracker budgets,
        KeyLimiter limiter, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        if (ClientAuth.Check(snapshots.Current, ClientAuth.ExtractKey(ctx.Request), now.ToUnixTimeMilliseconds(), out var key) is { } problem)
            return ApiResults.Unauthorized(problem);
        var k = key!;
        var ct = ctx.RequestAborted;
        var pending = ctx.RequestServices.GetService<IUnflushedStats>()?.Pending() ?? [];

        async Task<StatsTotals> TotalsFrom(DateTimeOffset? from)
        {
            var filter = new StatsFilter { ApiKeyId = k.Id, FromHour = from?.ToUnixTimeSeconds() };
            return (await store.TotalsAsync(filter, ct)).Add(StatsTotals.Sum(pending, filter));
        }

        var (dayStart, _) = BudgetTracker.Bounds("daily", now);
        var (periodStart, reset) = BudgetTracker.Bounds(k.BudgetPeriod, now);
        var total = await TotalsFrom(null);
        var today = await TotalsFrom(dayStart);
        var period = k.BudgetPeriod == "total" ? total : await TotalsFrom(periodStart);
        // The budget check's own figure when it tracks this period (it counts even with stats turned off).
        var used = k.Budget is null ? period.Cost : budgets.SpentIn(k.Id, periodStart) ?? period.Cost;

        var reply = new SelfReply
        {
            Name = k.Name,
            KeyHint = k.KeyHint,
            Enabled = k.Enabled,
            ExpiresAt = Times.Format(k.ExpiresAt),
            AllowedGroups = [.. k.AllowedGroups],
            Budget = k.Budget,
            BudgetPeriod = k.BudgetPeriod,
            BudgetUsed = used,
            BudgetLeft = k.Budget is { } b ? Math.Max(0, b - used) : null,
            BudgetResetsAt = k.Budget is null ? null : Times.Format(reset?.ToUnixTimeMilliseconds()),
            Usage = new SelfUsage
            {
                Today = ToDto(today, dayStart),
                Period = ToDto(period, k.BudgetPeriod == "total" ? null : periodStart),
                Total = ToDto(total, null),
            },
            Limits = new SelfLimits
            {
                Rpm = k.RequestsPerMinute,
                Tpm = k.TokensPerMinute,
                MaxConcurrency = k.MaxConcurrency,
                Window = Window(limiter.Use(k.Id)),
                Groups = k.GroupLimits.ToDictionary(g => g.Key, g => new SelfGroupLimits
                {
                    Rpm = g.Value.Rpm,
                    Tpm = g.Value.Tpm,
                    MaxConcurrency = g.Value.MaxConcurrency,
                    Window = Window(limiter.Use(k.Id, g.Key)),
                }),
            },
        };
        ctx.Response.Headers.CacheControl = "no-store";
        return ApiResults.Json(reply, AdminJsonContext.Default.SelfReply);
    }

    private static SelfTotals ToDto(StatsTotals t, DateTimeOffset? from) =>
        new(from is { } f ? Times.Format(f.ToUnixTimeMilliseconds()) : null, t.Requests, t.RequestsOk, t.RequestsFailed, t.InputTokens, t.OutputTokens, t.Cost);

    private static SelfWindow Window(LimitUse? use) => use is { } u ? new SelfWindow(u.Requests, u.Tokens, u.InFlight) : new SelfWindow(0, 0, 0);
}
