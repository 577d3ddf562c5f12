using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>GET /logs (filters, cursor pages, newest first) and GET /logs/{id} (attempts and captured bodies).</summary>
internal static class LogsApi
{
    public static void MapLogs(this RouteGroupBuilder api)
    {
        api.MapGet("/logs", async (HttpContext ctx, RequestLogStore store) =>
        {
            var q = ctx.Request.Query;
            var errors = new Dictionary<string, string>();
            var filter = new RequestLogFilter
            {
                From = QueryTime(q["from"], "from", errors),
                To = QueryTime(q["to"], "to", errors),
                Group = q["group"].ToString() is { Length: > 0 } g ? g : null,
                ChannelId = QueryLong(q["channel_id"], "channel_id", errors),
                ApiKeyId = QueryLong(q["api_key_id"], "api_key_id", errors),
                Cursor = QueryLong(q["cursor"], "cursor", errors),
                Limit = (int)(QueryLong(q["limit"], "limit", errors, 1, 500) ?? 50),
                Status = q["status"].ToString() is { Length: > 0 } s ? s : null,
            };
            if (filter.Status is not null and not ("ok" or "error" or "all") && !int.TryParse(filter.Status, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                errors["status"] = "must be ok, error or an HTTP status code";
            if (errors.Count > 0) return ApiResults.Invalid(errors);
            var page = await store.QueryAsync(filter, ctx.RequestAborted);
            return ApiResults.Json(new LogPageDto(page.Items.Select(l => ToDto(l, withAttempts: false)).ToList(), page.NextCursor), AdminJsonContext.Default.LogPageDto);
        });

        api.MapGet("/logs/{id:long}", async (long id, RequestLogStore store, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } detail) return ApiResults.NotFound("log");
            // The log's own fields, plus attempts and body (null when none was captured).
            var node = JsonSerializer.SerializeToNode(ToDto(detail.Log, withAttempts: true), AdminJsonContext.Default.LogDto)!.AsObject();
            node["body"] = detail.Body is null
                ? null
                : new JsonObject { ["request"] = detail.Body.Request, ["response"] = detail.Body.Response };
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms)) node.WriteTo(w);
            return Results.Bytes(ms.ToArray(), "application/json");
        });
    }

    public static LogDto ToDto(RequestLog l, bool withAttempts) => new()
    {
        Id = l.Id,
        Time = Times.Format(l.Time),
        ApiKeyId = l.ApiKeyId,
        ApiKeyName = l.ApiKeyName,
        ClientIp = l.ClientIp,
        RequestedModel = l.RequestedModel,
        GroupName = l.GroupName,
        ChannelId = l.ChannelId,
        ChannelName = l.ChannelName,
        UpstreamModel = l.UpstreamModel,
        Status = l.Status,
        Error = l.Error,
        LatencyMs = l.LatencyMs,
        TtftMs = l.TtftMs,
        InputTokens = l.InputTokens,
        OutputTokens = l.OutputTokens,
        CacheReadTokens = l.CacheReadTokens,
        CacheWriteTokens = l.CacheWriteTokens,
        ReasoningTokens = l.ReasoningTokens,
        Cost = l.Cost,
        Stream = l.Stream,
        ProtocolIn = l.ProtocolIn,
        ProtocolOut = l.ProtocolOut,
        Attempts = withAttempts
            ? l.Attempts.Select(a => new AttemptDto(a.ChannelId, a.ChannelName, a.BaseUrl, a.Model, a.KeyId, a.Status, a.Error, a.DurationMs)).ToList()
            : null,
    };

    public static long? QueryTime(string? value, string name, Dictionary<string, string> errors)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (Times.TryParse(value, out var ms)) return ms;
        errors[name] = "must be an RFC 3339 time or unix milliseconds";
        return null;
    }

    public static long? QueryLong(string? value, string name, Dictionary<string, string> errors, long min = 0, long max = long.MaxValue)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        errors[name] = max == long.MaxValue ? $"must be an integer ≥ {min}" : $"must be an integer from {min} to {max}";
        return null;
    }
}
