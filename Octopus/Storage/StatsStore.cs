using System.Globalization;
using System.Text;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>Which rows a stats query covers. Hours are unix seconds of the hour start: From inclusive, To exclusive.</summary>
internal sealed record StatsFilter
{
    public long? FromHour { get; init; }
    public long? ToHour { get; init; }
    public long? ApiKeyId { get; init; }
    public string? GroupName { get; init; }
    public long? ChannelId { get; init; }
}

/// <summary>Summed counters. <see cref="Requests"/> = ok + failed.</summary>
internal sealed record StatsTotals
{
    public long RequestsOk { get; init; }
    public long RequestsFailed { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long CacheReadTokens { get; init; }
    public long CacheWriteTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public double Cost { get; init; }
    public long LatencyMsTotal { get; init; }
    public long TtftMsTotal { get; init; }

    public long Requests => RequestsOk + RequestsFailed;

    public static readonly StatsTotals Zero = new();

    public StatsTotals Add(StatsTotals o) => new()
    {
        RequestsOk = RequestsOk + o.RequestsOk,
        RequestsFailed = RequestsFailed + o.RequestsFailed,
        InputTokens = InputTokens + o.InputTokens,
        OutputTokens = OutputTokens + o.OutputTokens,
        CacheReadTokens = CacheReadTokens + o.CacheReadTokens,
        CacheWriteTokens = CacheWriteTokens + o.CacheWriteTokens,
        ReasoningTokens = ReasoningTokens + o.ReasoningTokens,
        Cost = Cost + o.Cost,
        LatencyMsTotal = LatencyMsTotal + o.LatencyMsTotal,
        TtftMsTotal = TtftMsTotal + o.TtftMsTotal,
    };

    public static StatsTotals From(StatsDelta d) => new()
    {
        RequestsOk = d.RequestsOk,
        RequestsFailed = d.RequestsFailed,
        InputTokens = d.InputTokens,
        OutputTokens = d.OutputTokens,
        CacheReadTokens = d.CacheReadTokens,
        CacheWriteTokens = d.CacheWriteTokens,
        ReasoningTokens = d.ReasoningTokens,
        Cost = d.Cost,
        LatencyMsTotal = d.LatencyMsTotal,
        TtftMsTotal = d.TtftMsTotal,
    };

    /// <summary>Sums in-memory deltas that match the filter (for adding unflushed counts to stored ones).</summary>
    public static StatsTotals Sum(IEnumerable<StatsDelta> deltas, StatsFilter? filter = null)
    {
        var t = Zero;
        foreach (var d in deltas)
            if (filter is null || Matches(filter, d)) t = t.Add(From(d));
        return t;
    }

    public static bool Matches(StatsFilter f, StatsDelta d) =>
        (f.FromHour is null || d.Hour >= f.FromHour) && (f.ToHour is null || d.Hour < f.ToHour)
        && (f.ApiKeyId is null || d.ApiKeyId == f.ApiKeyId) && (f.GroupName is null || d.GroupName == f.GroupName)
        && (f.ChannelId is null || d.ChannelId == f.ChannelId);
}

internal enum StatsInterval
{
    Hour,
    Day,
}

internal enum StatsDimension
{
    Channel,
    Model,
    ApiKey,
    Group,
}

/// <summary>One bucket of a series; <see cref="Time"/> is unix seconds of the bucket start (UTC).</summary>
internal sealed record StatsPoint(long Time, StatsTotals Totals);

/// <summary>One row of a top-N list; <see cref="Key"/> is the channel id, model, api key id or group name as text.</summary>
internal sealed record StatsTopRow(string Key, StatsTotals Totals);

/// <summary>Hourly counters per (hour, api key, group, channel, model), written additively by the stats flusher.</summary>
internal sealed class StatsStore(Database db)
{
    private const string Entity = "stats";

    private const string Counters =
        "requests_ok, requests_failed, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost, latency_ms_total, ttft_ms_total";

    /// <summary>Adds each delta to its row (creating it), all in one transaction.</summary>
    public Task AddAsync(IReadOnlyCollection<StatsDelta> deltas, CancellationToken ct)
    {
        if (deltas.Count == 0) return Task.CompletedTask;
        var sql = db.Kind == DbKind.MySql
            ? $"""
               INSERT INTO stats_hourly (hour, api_key_id, group_name, channel_id, model, {Counters})
               VALUES (@Hour, @ApiKeyId, @GroupName, @ChannelId, @Model, @RequestsOk, @RequestsFailed, @InputTokens, @OutputTokens, @CacheReadTokens, @CacheWriteTokens, @ReasoningTokens, @Cost, @LatencyMsTotal, @TtftMsTotal)
               ON DUPLICATE KEY UPDATE {AddAll(c => $"{c} = {c} + VALUES({c})")}
               """
            : $"""
               INSERT INTO stats_hourly (hour, api_key_id, group_name, channel_id, model, {Counters})
               VALUES (@Hour, @ApiKeyId, @GroupName, @ChannelId, @Model, @RequestsOk, @RequestsFailed, @InputTokens, @OutputTokens, @CacheReadTokens, @CacheWriteTokens, @ReasoningTokens, @Cost, @LatencyMsTotal, @TtftMsTotal)
               ON CONFLICT (hour, api_key_id, group_name, channel_id, model) DO UPDATE SET {AddAll(c => $"{c} = stats_hourly.{c} + excluded.{c}")}
               """;
        // A fixed row order keeps two concurrent flushes (two instances) from deadlocking each other.
        var ordered = deltas.OrderBy(d => d.Hour).ThenBy(d => d.ApiKeyId).ThenBy(d => d.GroupName, StringComparer.Ordinal)
            .ThenBy(d => d.ChannelId).ThenBy(d => d.Model, StringComparer.Ordinal).ToList();
        return db.TransactAsync(Entity, async (conn, tx) =>
        {
            foreach (var d in ordered)
            {
                await conn.ExecuteAsync(sql, new
                {
                    d.Hour,
                    d.ApiKeyId,
                    GroupName = d.GroupName ?? "",
                    d.ChannelId,
                    Model = d.Model ?? "",
                    d.RequestsOk,
                    d.RequestsFailed,
                    d.InputTokens,
                    d.OutputTokens,
                    d.CacheReadTokens,
                    d.CacheWriteTokens,
                    d.ReasoningTokens,
                    d.Cost,
                    d.LatencyMsTotal,
                    d.TtftMsTotal,
                }, tx);
            }
            return 0;
        }, ct);
    }

    public Task<StatsTotals> TotalsAsync(StatsFilter filter, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var rows = await conn.QueryAsync<StatsRow>($"SELECT '' AS dim, {Sums()} FROM stats_hourly{Where(filter)}", Args(filter));
            return rows.Select(ToTotals).FirstOrDefault() ?? StatsTotals.Zero;
        }, ct);

    /// <summary>Buckets with data, oldest first (hours or UTC days).</summary>
    public Task<IReadOnlyList<StatsPoint>> SeriesAsync(StatsFilter filter, StatsInterval interval, CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<StatsPoint>>(Entity, async conn =>
        {
            var rows = await conn.QueryAsync<StatsRow>(
                $"SELECT {db.CastText("hour")} AS dim, {Sums()} FROM stats_hourly{Where(filter)} GROUP BY hour", Args(filter));
            var size = interval == StatsInterval.Day ? 86400L : 3600L;
            return rows
                .GroupBy(r => Floor(long.Parse(r.Dim, CultureInfo.InvariantCulture), size))
                .OrderBy(g => g.Key)
                .Select(g => new StatsPoint(g.Key, g.Select(ToTotals).Aggregate(StatsTotals.Zero, (a, b) => a.Add(b))))
                .ToList();
        }, ct);

    /// <summary>The largest contributors by request count (then cost).</summary>
    public Task<IReadOnlyList<StatsTopRow>> TopAsync(StatsDimension by, StatsFilter filter, int limit, CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<StatsTopRow>>(Entity, async conn =>
        {
            var column = by switch
            {
                StatsDimension.Channel => "channel_id",
                StatsDimension.ApiKey => "api_key_id",
                StatsDimension.Group => "group_name",
                _ => "model",
            };
            var dim = by is StatsDimension.Channel or StatsDimension.ApiKey ? db.CastText(column) : column;
            var rows = await conn.QueryAsync<StatsRow>(
                $"SELECT {dim} AS dim, {Sums()} FROM stats_hourly{Where(filter)} GROUP BY {column}", Args(filter));
            return rows.Select(r => new StatsTopRow(r.Dim, ToTotals(r)))
                .OrderByDescending(r => r.Totals.Requests).ThenByDescending(r => r.Totals.Cost).ThenBy(r => r.Key, StringComparer.Ordinal)
                .Take(Math.Clamp(limit, 1, 1000))
                .ToList();
        }, ct);

    private static long Floor(long t, long size) => t - ((t % size) + size) % size;

    private static string AddAll(Func<string, string> each) =>
        string.Join(", ", Counters.Split(", ").Select(each));

    private string Sums()
    {
        var sb = new StringBuilder();
        foreach (var c in Counters.Split(", "))
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(c == "cost" ? db.SumReal(c) : db.SumInt(c)).Append(" AS ").Append(c);
        }
        return sb.ToString();
    }

    private static string Where(StatsFilter f)
    {
        var parts = new List<string>();
        if (f.FromHour is not null) parts.Add("hour >= @FromHour");
        if (f.ToHour is not null) parts.Add("hour < @ToHour");
        if (f.ApiKeyId is not null) parts.Add("api_key_id = @ApiKeyId");
        if (f.GroupName is not null) parts.Add("group_name = @GroupName");
        if (f.ChannelId is not null) parts.Add("channel_id = @ChannelId");
        return parts.Count == 0 ? "" : " WHERE " + string.Join(" AND ", parts);
    }

    private static StatsArgs Args(StatsFilter f) => new()
    {
        FromHour = f.FromHour ?? 0,
        ToHour = f.ToHour ?? 0,
        ApiKeyId = f.ApiKeyId ?? 0,
        GroupName = f.GroupName ?? "",
        ChannelId = f.ChannelId ?? 0,
    };

    private static StatsTotals ToTotals(StatsRow r) => new()
    {
        RequestsOk = r.RequestsOk,
        RequestsFailed = r.RequestsFailed,
        InputTokens = r.InputTokens,
        OutputTokens = r.OutputTokens,
        CacheReadTokens = r.CacheReadTokens,
        CacheWriteTokens = r.CacheWriteTokens,
        ReasoningTokens = r.ReasoningTokens,
        Cost = r.Cost,
        LatencyMsTotal = r.LatencyMsTotal,
        TtftMsTotal = r.TtftMsTotal,
    };
}

internal sealed class StatsArgs
{
    public long FromHour { get; set; }
    public long ToHour { get; set; }
    public long ApiKeyId { get; set; }
    public string GroupName { get; set; } = "";
    public long ChannelId { get; set; }
}
