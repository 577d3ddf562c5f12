using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Octopus.Domain;
using Octopus.Stats;

namespace Octopus.Storage;

/// <summary>Which logs to list. Times are unix ms (From inclusive, To exclusive); Cursor is the last id already seen.</summary>
internal sealed record RequestLogFilter
{
    public long? From { get; init; }
    public long? To { get; init; }
    public string? Group { get; init; }
    public long? ChannelId { get; init; }
    public long? ApiKeyId { get; init; }
    /// <summary>`ok` (2xx/3xx), `error` (anything else) or an exact HTTP status such as `429`.</summary>
    public string? Status { get; init; }
    public long? Cursor { get; init; }
    public int Limit { get; init; } = 50;
}

/// <summary>Newest first; <see cref="NextCursor"/> is null on the last page.</summary>
internal sealed record RequestLogPage(IReadOnlyList<RequestLog> Items, long? NextCursor);

internal sealed record RequestLogDetail(RequestLog Log, RequestBody? Body);

/// <summary>What a cleanup would remove: log rows, body rows and their approximate size in bytes.</summary>
internal sealed record CleanupPreview(long Logs, long Bodies, long Bytes);

/// <summary>Request logs and, apart, their captured bodies (shorter retention, bigger rows).</summary>
internal sealed class RequestLogStore(Database db)
{
    private const string Entity = "request log";

    /// <summary>
    /// How far past its log's `started_at` an id's time may lie and still be found by an upper time bound: ids minted
    /// since migration 6 lie on it (LogIds); older ones were minted when the request ended, up to a request's length
    /// later.
    /// </summary>
    internal const long TimeSlackMs = 3_600_000;

    public const string Columns =
        "id, started_at, api_key_id, api_key_name, client_ip, requested_model, group_name, channel_id, channel_name, upstream_model, status, error, " +
        "latency_ms, ttft_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost, stream, protocol_in, protocol_out, attempts";

    private static readonly string InsertSql = $"""
        INSERT INTO request_logs ({Columns})
        VALUES (@Id, @StartedAt, @ApiKeyId, @ApiKeyName, @ClientIp, @RequestedModel, @GroupName, @ChannelId, @ChannelName, @UpstreamModel, @Status, @Error,
            @LatencyMs, @TtftMs, @InputTokens, @OutputTokens, @CacheReadTokens, @CacheWriteTokens, @ReasoningTokens, @Cost, @Stream, @ProtocolIn, @ProtocolOut, @Attempts)
        """;

    /// <summary>Writes a batch of logs and bodies in one transaction. Log ids are minted by the caller.</summary>
    public Task InsertAsync(IReadOnlyList<RequestLog> logs, IReadOnlyList<RequestBody> bodies, CancellationToken ct)
    {
        if (logs.Count == 0 && bodies.Count == 0) return Task.CompletedTask;
        return db.TransactAsync(Entity, async (conn, tx) =>
        {
            if (conn is SqliteConnection sqlite) SqliteLogInsert.Run(sqlite, logs);
            else await InsertWithAdoAsync(conn, tx, logs, ct);
            foreach (var b in bodies)
            {
                await conn.ExecuteAsync(
                    "INSERT INTO request_bodies (log_id, started_at, request, response) VALUES (@LogId, @StartedAt, @Request, @Response)",
                    new { b.LogId, StartedAt = b.Time, b.Request, b.Response, Cancel = ct }, tx);
            }
            return 0;
        }, ct);
    }

    /// <summary>
    /// PostgreSQL and MySQL: one prepared command re-executed per row, not a new command per row as a Dapper call
    /// would build. Plain ADO.NET parameters work the same on Npgsql and MySqlConnector.
    /// </summary>
    private static async Task InsertWithAdoAsync(DbConnection conn, DbTransaction tx, IReadOnlyList<RequestLog> logs, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = InsertSql;
        DbParameter P(string name, DbType type)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.DbType = type;
            cmd.Parameters.Add(p);
            return p;
        }
        var id = P("Id", DbType.Int64);
        var startedAt = P("StartedAt", DbType.Int64);
        var apiKeyId = P("ApiKeyId", DbType.Int64);
        var apiKeyName = P("ApiKeyName", DbType.String);
        var clientIp = P("ClientIp", DbType.String);
        var requestedModel = P("RequestedModel", DbType.String);
        var groupName = P("GroupName", DbType.String);
        var channelId = P("ChannelId", DbType.Int64);
        var channelName = P("ChannelName", DbType.String);
        var upstreamModel = P("UpstreamModel", DbType.String);
        var status = P("Status", DbType.Int64);
        var error = P("Error", DbType.String);
        var latencyMs = P("LatencyMs", DbType.Int64);
        var ttftMs = P("TtftMs", DbType.Int64);
        var inputTokens = P("InputTokens", DbType.Int64);
        var outputTokens = P("OutputTokens", DbType.Int64);
        var cacheReadTokens = P("CacheReadTokens", DbType.Int64);
        var cacheWriteTokens = P("CacheWriteTokens", DbType.Int64);
        var reasoningTokens = P("ReasoningTokens", DbType.Int64);
        var cost = P("Cost", DbType.Double);
        var stream = P("Stream", DbType.Boolean);
        var protocolIn = P("ProtocolIn", DbType.String);
        var protocolOut = P("ProtocolOut", DbType.String);
        var attempts = P("Attempts", DbType.String);
        static object Db(object? v) => v ?? DBNull.Value;
        foreach (var l in logs)
        {
            id.Value = l.Id;
            startedAt.Value = l.Time;
            apiKeyId.Value = Db(l.ApiKeyId);
            apiKeyName.Value = Db(l.ApiKeyName);
            clientIp.Value = Db(l.ClientIp);
            requestedModel.Value = Db(l.RequestedModel);
            groupName.Value = Db(l.GroupName);
            channelId.Value = Db(l.ChannelId);
            channelName.Value = Db(l.ChannelName);
            upstreamModel.Value = Db(l.UpstreamModel);
            status.Value = (long)l.Status;
            error.Value = Db(l.Error);
            latencyMs.Value = l.LatencyMs;
            ttftMs.Value = Db(l.TtftMs);
            inputTokens.Value = l.InputTokens;
            outputTokens.Value = l.OutputTokens;
            cacheReadTokens.Value = l.CacheReadTokens;
            cacheWriteTokens.Value = l.CacheWriteTokens;
            reasoningTokens.Value = l.ReasoningTokens;
            cost.Value = l.Cost;
            stream.Value = l.Stream;
            protocolIn.Value = l.ProtocolIn ?? "";
            protocolOut.Value = Db(l.ProtocolOut);
            attempts.Value = AttemptsColumn.Write(l);
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    public Task<RequestLogPage> QueryAsync(RequestLogFilter filter, CancellationToken ct)
    {
        var limit = Math.Clamp(filter.Limit, 1, 500);
        var parts = new List<string>();
        // Time bounds go on the primary key (LogIds): exact from below, with TimeSlack from above.
        if (filter.From is not null) parts.Add("id >= @IdFrom AND started_at >= @From");
        if (filter.To is not null) parts.Add("id < @IdTo AND started_at < @To");
        if (filter.Group is not null) parts.Add("group_name = @Group");
        if (filter.ChannelId is not null) parts.Add("channel_id = @ChannelId");
        if (filter.ApiKeyId is not null) parts.Add("api_key_id = @ApiKeyId");
        if (filter.Cursor is not null) parts.Add("id < @Cursor");
        long status = 0;
        switch (filter.Status)
        {
            case null or "" or "all": break;
            case "ok": parts.Add("status >= 200 AND status < 400"); break;
            case "error": parts.Add("(status < 200 OR status >= 400)"); break;
            default:
                if (!long.TryParse(filter.Status, NumberStyles.None, CultureInfo.InvariantCulture, out status))
                    throw new ArgumentException("status must be ok, error or an HTTP status code", nameof(filter));
                parts.Add("status = @Status");
                break;
        }
        var where = parts.Count == 0 ? "" : " WHERE " + string.Join(" AND ", parts);
        var sql = $"SELECT {Columns} FROM request_logs{where} ORDER BY id DESC LIMIT @Take";
        var args = new RequestLogArgs
        {
            From = filter.From ?? 0,
            IdFrom = LogIds.Floor(filter.From ?? 0),
            To = filter.To ?? 0,
            IdTo = LogIds.Floor((filter.To ?? 0) + TimeSlackMs),
            Group = filter.Group ?? "",
            ChannelId = filter.ChannelId ?? 0,
            ApiKeyId = filter.ApiKeyId ?? 0,
            Cursor = filter.Cursor ?? 0,
            Status = status,
            Take = limit + 1,
        };
        return db.RunAsync(Entity, async conn =>
        {
            var rows = (await conn.QueryAsync<RequestLogRow>(sql, args)).ToList();
            var more = rows.Count > limit;
            var items = rows.Take(limit).Select(ToLog).ToList();
            return new RequestLogPage(items, more ? items[^1].Id : null);
        }, ct);
    }

    public Task<RequestLogDetail?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<RequestLogRow>($"SELECT {Columns} FROM request_logs WHERE id = @Id", new { Id = id, Cancel = ct });
            if (row is null) return null;
            var body = await conn.QueryFirstOrDefaultAsync<RequestBodyRow>(
                "SELECT log_id, started_at, request, response FROM request_bodies WHERE log_id = @Id", new { Id = id, Cancel = ct });
            return new RequestLogDetail(ToLog(row), body is null ? null : new RequestBody
            {
                LogId = body.LogId,
                Time = body.StartedAt,
                Request = body.Request,
                Response = body.Response,
            });
        }, ct);

    /// <summary>Deletes logs (and their bodies) older than the cutoff, batch by batch so writers are never held long.</summary>
    public async Task<long> DeleteLogsBeforeAsync(long beforeMs, int batchSize, CancellationToken ct)
    {
        await DeleteBodiesBeforeAsync(beforeMs, batchSize, ct); // a body never outlives its log
        var sql = db.Kind == DbKind.MySql
            ? "DELETE FROM request_logs WHERE id < @IdBefore AND started_at < @Before ORDER BY id LIMIT @Batch"
            : "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE id < @IdBefore AND started_at < @Before ORDER BY id LIMIT @Batch)";
        return await DeleteInBatchesAsync(sql, beforeMs, batchSize, ct);
    }

    /// <summary>Deletes captured bodies older than the cutoff; the log rows stay.</summary>
    public Task<long> DeleteBodiesBeforeAsync(long beforeMs, int batchSize, CancellationToken ct)
    {
        var sql = db.Kind == DbKind.MySql
            ? "DELETE FROM request_bodies WHERE started_at < @Before ORDER BY log_id LIMIT @Batch"
            : "DELETE FROM request_bodies WHERE log_id IN (SELECT log_id FROM request_bodies WHERE started_at < @Before ORDER BY log_id LIMIT @Batch)";
        return DeleteInBatchesAsync(sql, beforeMs, batchSize, ct);
    }

    private async Task<long> DeleteInBatchesAsync(string sql, long beforeMs, int batchSize, CancellationToken ct)
    {
        batchSize = Math.Clamp(batchSize, 1, 100_000);
        long total = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var n = await db.RunAsync(Entity, async conn =>
                await conn.ExecuteAsync(sql, new { Before = beforeMs, IdBefore = LogIds.Floor(beforeMs + TimeSlackMs), Batch = (long)batchSize }), ct);
            total += n;
            if (n < batchSize) return total; // each pass removes rows for good, so this ends
        }
    }

    /// <summary>Counts what cleanup with these cutoffs would delete, and roughly how many bytes that frees.</summary>
    public Task<CleanupPreview> PreviewCleanupAsync(long logsBeforeMs, long bodiesBeforeMs, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            // ~200 bytes of fixed columns per log row, plus its variable text.
            var logs = await conn.QueryFirstAsync<CountBytesRow>(
                $"SELECT {db.SumInt("1")} AS row_count, {db.SumInt(db.ByteLength("attempts") + " + " + db.ByteLength("error") + " + 200")} AS byte_count FROM request_logs WHERE id < @IdBefore AND started_at < @Before",
                new { Before = logsBeforeMs, IdBefore = LogIds.Floor(logsBeforeMs + TimeSlackMs) });
            // Bodies go when their own retention ends or with their log.
            var bodies = await conn.QueryFirstAsync<CountBytesRow>(
                $"SELECT {db.SumInt("1")} AS row_count, {db.SumInt(db.ByteLength("request") + " + " + db.ByteLength("response"))} AS byte_count FROM request_bodies WHERE started_at < @Before OR started_at < @LogsBefore",
                new { Before = bodiesBeforeMs, LogsBefore = logsBeforeMs });
            return new CleanupPreview(logs.RowCount, bodies.RowCount, logs.ByteCount + bodies.ByteCount);
        }, ct);

    /// <summary>Gives freed pages back to the file system (SQLite); server databases reuse space on their own.</summary>
    public Task ReclaimSpaceAsync(CancellationToken ct)
    {
        if (db.Kind != DbKind.Sqlite) return Task.CompletedTask;
        return db.RunAsync(Entity, async conn =>
        {
            await conn.ExecuteAsync("PRAGMA incremental_vacuum", new { Cancel = ct });
            await conn.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)", new { Cancel = ct });
            return 0;
        }, ct);
    }

    private static RequestLog ToLog(RequestLogRow r) => new()
    {
        Id = r.Id,
        Time = r.StartedAt,
        ApiKeyId = r.ApiKeyId,
        ApiKeyName = r.ApiKeyName,
        ClientIp = r.ClientIp,
        RequestedModel = r.RequestedModel,
        GroupName = r.GroupName,
        ChannelId = r.ChannelId,
        ChannelName = r.ChannelName,
        UpstreamModel = r.UpstreamModel,
        Status = (int)r.Status,
        Error = r.Error,
        LatencyMs = r.LatencyMs,
        TtftMs = r.TtftMs,
        InputTokens = r.InputTokens,
        OutputTokens = r.OutputTokens,
        CacheReadTokens = r.CacheReadTokens,
        CacheWriteTokens = r.CacheWriteTokens,
        ReasoningTokens = r.ReasoningTokens,
        Cost = r.Cost,
        Stream = r.Stream,
        ProtocolIn = r.ProtocolIn,
        ProtocolOut = r.ProtocolOut,
        Attempts = AttemptsColumn.Read(r.Attempts, r.ChannelId, r.ChannelName, r.UpstreamModel, (int)r.Status),
    };
}

internal sealed class CountBytesRow
{
    public long RowCount { get; set; }
    public long ByteCount { get; set; }
}

internal sealed class RequestLogArgs
{
    public long From { get; set; }
    public long IdFrom { get; set; }
    public long To { get; set; }
    public long IdTo { get; set; }
    public string Group { get; set; } = "";
    public long ChannelId { get; set; }
    public long ApiKeyId { get; set; }
    public long Cursor { get; set; }
    public long Status { get; set; }
    public long Take { get; set; }
}
