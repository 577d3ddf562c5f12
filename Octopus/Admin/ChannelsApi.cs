using System.Text.Json;
using System.Text.RegularExpressions;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>/channels: CRUD (keys masked), test, model sync and fetch, key reveal / set aside / reset.</summary>
internal static class ChannelsApi
{
    private static readonly string[] ProbePolicies = ["off", "passive", "set_aside_only", "active"];

    private static readonly string[] Fields =
    [
        "name", "type", "enabled", "base_urls", "endpoints", "keys", "models", "auto_sync", "model_filter", "headers", "proxy", "param_override",
        "probe_policy", "add_cache_breakpoints",
        // Read-only fields of the reply, accepted and ignored so a client can send back what it got.
        "id", "synced_models", "created_at", "updated_at", "health",
    ];

    private static readonly string[] EndpointFields = ["type", "base_urls", "base_url"];

    private static readonly string[] KeyFields = ["id", "enabled", "remark", "key", "status", "status_reason", "status_at"];

    public static void MapChannels(this RouteGroupBuilder api)
    {
        api.MapGet("/channels", async (ChannelStore store, Relay.Health.ChannelHealth health, CancellationToken ct) =>
            ApiResults.Json((await store.ListAsync(ct)).Select(c => ToDto(c) with { Health = HealthOf(c, health) }).ToList(), AdminJsonContext.Default.ListChannelDto));

        api.MapGet("/channels/{id:long}", async (long id, ChannelStore store, Relay.Health.ChannelHealth health, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } c ? ApiResults.Json(ToDto(c) with { Health = HealthOf(c, health) }, AdminJsonContext.Default.ChannelDto) : ApiResults.NotFound("channel"));

        api.MapGet("/channels/{id:long}/health", async (long id, ChannelStore store, Relay.Health.ChannelHealth health, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } c ? ApiResults.Json(HealthOf(c, health), AdminJsonContext.Default.ChannelHealthDto) : ApiResults.NotFound("channel"));

        api.MapPost("/channels", Create);
        api.MapPut("/channels/{id:long}", Update);
        api.MapDelete("/channels/{id:long}", async (long id, HttpContext ctx, ChannelStore store) =>
        {
            if (!await store.DeleteAsync(id, ctx.RequestAborted)) return ApiResults.NotFound("channel");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return Results.NoContent();
        });

        api.MapPost("/channels/{id:long}/test", Test);
        api.MapPost("/channels/{id:long}/sync-models", SyncModels);
        api.MapPost("/channels/fetch-models", FetchModels);
        api.MapGet("/channels/{id:long}/keys/{keyId:long}/reveal", async (long id, long keyId, ChannelStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } c && c.Keys.FirstOrDefault(k => k.Id == keyId) is { } key
                ? ApiResults.Json(new RevealReply(key.Secret), AdminJsonContext.Default.RevealReply)
                : ApiResults.NotFound("key"));
        api.MapPost("/channels/{id:long}/keys/{keyId:long}/reset", (long id, long keyId, HttpContext ctx, ChannelStore store) =>
            SetKeyStatus(ctx, store, id, keyId, KeyStatus.Active, null));
        api.MapPost("/channels/{id:long}/keys/{keyId:long}/set-aside", async (long id, long keyId, HttpContext ctx, ChannelStore store) =>
        {
            var (input, error) = await JsonInput.ReadOptionalAsync(ctx, ["reason"]);
            if (error is not null) return error;
            var reason = input!.String("reason", maxLength: 1000);
            if (!input.IsValid) return ApiResults.Invalid(input.Errors);
            return await SetKeyStatus(ctx, store, id, keyId, KeyStatus.SetAside, reason ?? "set aside by admin");
        });
    }

    private static async Task<IResult> SetKeyStatus(HttpContext ctx, ChannelStore store, long id, long keyId, string status, string? reason)
    {
        var channel = await store.GetAsync(id, ctx.RequestAborted);
        if (channel is null || channel.Keys.All(k => k.Id != keyId)) return ApiResults.NotFound("key");
        await store.UpdateKeyStatusAsync(keyId, status, reason, Database.NowMs(), ctx.RequestAborted);
        await AdminEndpoints.ConfigChangedAsync(ctx);
        var key = (await store.GetAsync(id, ctx.RequestAborted))!.Keys.First(k => k.Id == keyId);
        return ApiResults.Json(ToDto(key), AdminJsonContext.Default.ChannelKeyDto);
    }

    private static async Task<IResult> Create(HttpContext ctx, ChannelStore store)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var channel = Parse(input!, null);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        var created = await store.CreateAsync(channel!, ctx.RequestAborted);
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(created), AdminJsonContext.Default.ChannelDto, 201);
    }

    private static async Task<IResult> Update(long id, HttpContext ctx, ChannelStore store)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var existing = await store.GetAsync(id, ctx.RequestAborted);
        if (existing is null) return ApiResults.NotFound("channel");
        var channel = Parse(input!, existing);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        var updated = await store.UpdateAsync(channel!, ctx.RequestAborted);
        if (updated is null) return ApiResults.NotFound("channel");
        await AdminEndpoints.ConfigChangedAsync(ctx);
        var health = ctx.RequestServices.GetRequiredService<Relay.Health.ChannelHealth>();
        return ApiResults.Json(ToDto(updated) with { Health = HealthOf(updated, health) }, AdminJsonContext.Default.ChannelDto);
    }

    /// <summary>Reads a create (existing = null) or a partial update; errors land in input.Errors.</summary>
    private static Channel? Parse(JsonInput input, Channel? existing)
    {
        var creating = existing is null;
        var name = input.String("name", required: creating, maxLength: 255)?.Trim();

        ChannelType? type = null;
        if (input.String("type", required: creating) is { } typeText)
        {
            if (ChannelTypes.TryParse(typeText, out var t)) type = t;
            else input.Fail("type", "must be one of " + string.Join(", ", ChannelTypes.All));
        }

        List<ChannelBaseUrl>? baseUrls = null;
        if (input.StringList("base_urls", required: creating) is { } urls)
        {
            if (urls.Count == 0) input.Fail("base_urls", "must list at least one URL");
            for (var i = 0; i < urls.Count; i++)
                if (!JsonInput.IsHttpUrl(urls[i])) input.Fail($"base_urls[{i}]", "must be an absolute http or https URL");
            baseUrls = urls.Select(u => new ChannelBaseUrl { Url = u.Trim().TrimEnd('/') }).ToList();
        }

        var endpoints = ParseEndpoints(input);
        if (endpoints is not null || type is not null)
            CheckEndpointProtocols(input, type ?? existing!.Type, endpoints ?? existing?.Endpoints ?? []);
        var keys = ParseKeys(input, existing);
        var models = input.StringList("models")?.Select(m => m.Trim()).Distinct(StringComparer.Ordinal).ToList();

        var modelFilter = existing?.ModelFilter;
        if (input.Present("model_filter"))
        {
            modelFilter = input.String("model_filter", allowEmpty: true, maxLength: 1000);
            if (string.IsNullOrEmpty(modelFilter)) modelFilter = null;
            else if (!JsonInput.IsValidRegex(modelFilter)) input.Fail("model_filter", "must be a valid regular expression");
        }

        var proxy = existing?.Proxy;
        if (input.Present("proxy"))
        {
            proxy = input.String("proxy", allowEmpty: true, maxLength: 1000)?.Trim();
            // The proxy as GET showed it (password masked) keeps the stored one.
            if (KeyMask.IsMaskOf(proxy, existing?.Proxy, KeyMask.MaskCredentials)) proxy = existing!.Proxy;
            if (string.IsNullOrEmpty(proxy)) proxy = null;
            else if (!JsonInput.IsProxyUrl(proxy)) input.Fail("proxy", "must be an http://, https:// or socks5:// URL");
        }

        var paramOverride = existing?.ParamOverride;
        if (input.Present("param_override"))
        {
            var e = input.Element("param_override");
            if (e is null) paramOverride = null;
            else if (e.Value.ValueKind != JsonValueKind.Object) input.Fail("param_override", "must be a JSON object or null");
            else paramOverride = e.Value.GetRawText();
        }

        var probe = input.String("probe_policy");
        if (probe is not null && !ProbePolicies.Contains(probe)) input.Fail("probe_policy", "must be one of " + string.Join(", ", ProbePolicies));

        var headers = input.HeaderMap("headers");
        var enabled = input.Bool("enabled");
        var autoSync = input.Bool("auto_sync");
        var cacheBreakpoints = input.Bool("add_cache_breakpoints");
        if (!input.IsValid) return null;

        return new Channel
        {
            Id = existing?.Id ?? 0,
            Name = name ?? existing!.Name,
            Type = type ?? existing!.Type,
            Enabled = enabled ?? existing?.Enabled ?? true,
            BaseUrls = baseUrls ?? existing!.BaseUrls,
            Endpoints = endpoints ?? existing?.Endpoints ?? [],
            Keys = keys ?? existing?.Keys ?? [],
            Models = models ?? existing?.Models ?? [],
            SyncedModels = existing?.SyncedModels ?? [],
            AutoSync = autoSync ?? existing?.AutoSync ?? false,
            ModelFilter = modelFilter,
            Headers = headers ?? existing?.Headers ?? new Dictionary<string, string>(),
            Proxy = proxy,
            ParamOverride = paramOverride,
            ProbePolicy = probe ?? existing?.ProbePolicy ?? "passive",
            AddCacheBreakpoints = cacheBreakpoints ?? existing?.AddCacheBreakpoints ?? false,
        };
    }

    /// <summary>`endpoints`: [{"type", "base_urls": [...]}] (or "base_url": "..." for one URL); null = not given.</summary>
    private static List<ChannelEndpoint>? ParseEndpoints(JsonInput input)
    {
        if (!input.Present("endpoints")) return null;
        if (input.Element("endpoints") is not { } items) return [];
        if (items.ValueKind != JsonValueKind.Array) { input.Fail("endpoints", "must be an array of {\"type\", \"base_urls\"}"); return null; }
        var list = new List<ChannelEndpoint>();
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var path = $"endpoints[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) { input.Fail(path, "must be an object {\"type\", \"base_urls\"}"); continue; }
            var e = input.Nested(item, path, EndpointFields);
            ChannelType type = default;
            if (e.String("type", required: true) is { } typeText && !ChannelTypes.TryParse(typeText, out type))
                e.Fail("type", "must be one of " + string.Join(", ", ChannelTypes.All));
            List<string>? urls = null;
            if (e.Present("base_url") && e.Present("base_urls")) e.Fail("base_url", "give base_url or base_urls, not both");
            else if (e.Present("base_url")) urls = e.String("base_url", required: true) is { } one ? [one] : null;
            else urls = e.StringList("base_urls", required: true);
            if (urls is { Count: 0 }) e.Fail("base_urls", "must list at least one URL");
            for (var u = 0; urls is not null && u < urls.Count; u++)
                if (!JsonInput.IsHttpUrl(urls[u])) e.Fail(e.Present("base_url") ? "base_url" : $"base_urls[{u}]", "must be an absolute http or https URL");
            if (urls is not null)
                list.Add(new ChannelEndpoint { Type = type, BaseUrls = urls.Select(u => new ChannelBaseUrl { Url = u.Trim().TrimEnd('/') }).ToList() });
        }
        return list;
    }

    /// <summary>Each protocol once: an endpoint may not repeat the channel's own protocol or another endpoint's.</summary>
    internal static string? EndpointProblem(ChannelType channelType, IReadOnlyList<ChannelEndpoint> endpoints, out int index)
    {
        var seen = new HashSet<ApiProtocol> { channelType.ProtocolOf() };
        for (index = 0; index < endpoints.Count; index++)
        {
            var p = endpoints[index].Type.ProtocolOf();
            if (!seen.Add(p))
                return p == channelType.ProtocolOf()
                    ? $"the channel's own type ({channelType.ToWire()}) already serves {p.ToWire()}; list only further protocols"
                    : $"another endpoint already serves {p.ToWire()}";
        }
        return null;
    }

    private static void CheckEndpointProtocols(JsonInput input, ChannelType channelType, IReadOnlyList<ChannelEndpoint> endpoints)
    {
        if (EndpointProblem(channelType, endpoints, out var index) is { } problem) input.Fail($"endpoints[{index}].type", problem);
    }

    /// <summary>POST: strings (new secrets). PUT: strings or {"id", "enabled"?, "remark"?} keeping an existing key.</summary>
    private static List<ChannelKey>? ParseKeys(JsonInput input, Channel? existing)
    {
        if (input.Element("keys") is not { } keys) return null;
        if (keys.ValueKind != JsonValueKind.Array) { input.Fail("keys", "must be an array"); return null; }
        var list = new List<ChannelKey>();
        var i = 0;
        foreach (var item in keys.EnumerateArray())
        {
            var path = $"keys[{i++}]";
            if (item.ValueKind == JsonValueKind.String)
            {
                var secret = item.GetString()!.Trim();
                if (secret.Length == 0) input.Fail(path, "must not be empty");
                else list.Add(new ChannelKey { Secret = secret });
            }
            else if (item.ValueKind == JsonValueKind.Object && existing is not null)
            {
                var k = input.Nested(item, path, KeyFields);
                var id = k.Long("id", min: 1, required: true);
                var old = id is null ? null : existing.Keys.FirstOrDefault(x => x.Id == id);
                if (id is not null && old is null) k.Fail("id", "is not a key of this channel");
                var enabled = k.Bool("enabled");
                var remark = k.Present("remark") ? k.String("remark", allowEmpty: true, maxLength: 1000) : old?.Remark;
                if (old is not null) list.Add(old with { Enabled = enabled ?? old.Enabled, Remark = string.IsNullOrEmpty(remark) ? null : remark, Secret = "" });
            }
            else
            {
                input.Fail(path, existing is null ? "must be a string (the key)" : "must be a string (a new key) or {\"id\": n} (an existing key)");
            }
        }
        var ids = list.Where(k => k.Id > 0).Select(k => k.Id).ToList();
        if (ids.Count != ids.Distinct().Count()) input.Fail("keys", "lists the same key id twice");
        return list;
    }

    private static async Task<IResult> Test(long id, HttpContext ctx, ChannelStore store, UpstreamClient upstream)
    {
        var (input, error) = await JsonInput.ReadOptionalAsync(ctx, ["model"]);
        if (error is not null) return error;
        var model = input!.String("model", maxLength: 255);
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);
        var channel = await store.GetAsync(id, ctx.RequestAborted);
        if (channel is null) return ApiResults.NotFound("channel");
        model ??= channel.Models.Concat(channel.SyncedModels).FirstOrDefault();
        if (model is null) return ApiResults.Invalid("model", "is required: the channel lists no models");
        var reply = await upstream.TestAsync(channel, model, ctx.RequestAborted);
        return ApiResults.Json(reply, AdminJsonContext.Default.ChannelTestReply);
    }

    private static async Task<IResult> SyncModels(long id, HttpContext ctx, ChannelStore store, Sync.ModelSync sync)
    {
        var channel = await store.GetAsync(id, ctx.RequestAborted);
        if (channel is null) return ApiResults.NotFound("channel");
        if (channel.Keys.Count == 0 || channel.BaseUrls.Count == 0)
            return ApiResults.Unprocessable(channel.Keys.Count == 0 ? "keys" : "base_urls", "the channel needs a key and a base URL to list models");
        Sync.ModelSync.Result result;
        try
        {
            result = await sync.SyncAsync(channel, ctx.RequestAborted);
        }
        catch (UpstreamException e)
        {
            return ApiResults.Error(502, "upstream_failed", e.Message);
        }
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(new SyncModelsReply(result.Models, result.Added, result.Removed), AdminJsonContext.Default.SyncModelsReply);
    }

    private static async Task<IResult> FetchModels(HttpContext ctx, UpstreamClient upstream)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, ["type", "base_url", "key", "headers", "proxy"]);
        if (error is not null) return error;
        var typeText = input!.String("type", required: true);
        ChannelType type = default;
        if (typeText is not null && !ChannelTypes.TryParse(typeText, out type)) input.Fail("type", "must be one of " + string.Join(", ", ChannelTypes.All));
        var baseUrl = input.String("base_url", required: true);
        if (baseUrl is not null && !JsonInput.IsHttpUrl(baseUrl)) input.Fail("base_url", "must be an absolute http or https URL");
        var key = input.String("key", required: true);
        var headers = input.HeaderMap("headers");
        var proxy = input.String("proxy", allowEmpty: true);
        if (!string.IsNullOrEmpty(proxy) && !JsonInput.IsProxyUrl(proxy)) input.Fail("proxy", "must be an http://, https:// or socks5:// URL");
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);
        try
        {
            var models = await upstream.ListModelsAsync(type, baseUrl!, key!.Trim(), headers, proxy, ctx.RequestAborted);
            return ApiResults.Json(new FetchModelsReply(models), AdminJsonContext.Default.FetchModelsReply);
        }
        catch (UpstreamException e)
        {
            return ApiResults.Error(502, "upstream_failed", e.Message);
        }
    }

    public static ChannelDto ToDto(Channel c) => ToDto(c, includeSecrets: false);

    public static ChannelDto ToDto(Channel c, bool includeSecrets) => new()
    {
        Id = c.Id,
        Name = c.Name,
        Type = c.Type.ToWire(),
        Enabled = c.Enabled,
        BaseUrls = c.BaseUrls.Select(u => u.Url).ToList(),
        Endpoints = c.Endpoints.Select(e => new ChannelEndpointDto { Type = e.Type.ToWire(), BaseUrls = e.BaseUrls.Select(u => u.Url).ToList() }).ToList(),
        Keys = c.Keys.Select(k => ToDto(k) with { Key = includeSecrets ? k.Secret : KeyMask.Mask(k.Secret) }).ToList(),
        Models = [.. c.Models],
        SyncedModels = [.. c.SyncedModels],
        AutoSync = c.AutoSync,
        ModelFilter = c.ModelFilter,
        Headers = new Dictionary<string, string>(c.Headers),
        Proxy = c.Proxy is null || includeSecrets ? c.Proxy : KeyMask.MaskCredentials(c.Proxy),
        ParamOverride = ParseObject(c.ParamOverride),
        ProbePolicy = c.ProbePolicy,
        AddCacheBreakpoints = c.AddCacheBreakpoints,
        CreatedAt = Times.Format(c.CreatedAt),
        UpdatedAt = Times.Format(c.UpdatedAt),
    };

    /// <summary>Recent attempts through the channel and each of its keys, as the relay saw them (this process only).</summary>
    public static ChannelHealthDto HealthOf(Channel c, Relay.Health.ChannelHealth health)
    {
        var dto = ToHealthDto(health.OfChannel(c.Id));
        dto.Keys = c.Keys.Select(k => ToHealthDto(health.OfKey(k.Id)) with { Id = k.Id }).ToList();
        return dto;
    }

    private static ChannelHealthDto ToHealthDto(Relay.Health.HealthSummary? h) => h is null || h.Attempts == 0
        ? new ChannelHealthDto { Window = Relay.Health.ChannelHealth.Window }
        : new ChannelHealthDto
        {
            Window = Relay.Health.ChannelHealth.Window,
            Attempts = h.Attempts,
            Succeeded = h.Succeeded,
            SuccessRate = h.SuccessRate,
            AvgLatencyMs = h.AvgLatencyMs,
            Since = Times.Format(h.Since),
            LastAt = Times.Format(h.LastAt),
            LastError = h.LastError is { } e ? new HealthErrorDto(Times.Format(e.At)!, e.Status, e.Message) : null,
        };

    public static ChannelKeyDto ToDto(ChannelKey k) => new()
    {
        Id = k.Id,
        Key = KeyMask.Mask(k.Secret),
        Enabled = k.Enabled,
        Status = k.Status,
        StatusReason = k.StatusReason,
        StatusAt = Times.Format(k.StatusAt),
        Remark = k.Remark,
    };

    private static JsonElement? ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
