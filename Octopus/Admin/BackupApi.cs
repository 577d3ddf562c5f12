using System.Text.Json;
using Octopus.Settings;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>
/// GET /backup: the whole configuration as one JSON document (channel key secrets, proxy passwords and the webhook
/// URL's token only with include_keys=true; bodies and logs never). POST /backup: replaces channels, groups, routes,
/// api keys, price overrides and settings in one transaction.
/// </summary>
internal static class BackupApi
{
    public static void MapBackup(this RouteGroupBuilder api)
    {
        api.MapGet("/backup", async (HttpContext ctx, ChannelStore channels, GroupStore groups, ApiKeyStore keys, PriceStore prices, SettingStore settings, RoutingRuleStore routes) =>
        {
            var includeKeys = ctx.Request.Query["include_keys"].ToString() is "true" or "1";
            var ct = ctx.RequestAborted;
            var channelList = await channels.ListAsync(ct);
            var names = channelList.ToDictionary(c => c.Id, c => c.Name);
            var stored = await settings.GetAllAsync(ct);
            var groupList = await groups.ListAsync(ct);
            var groupNames = groupList.ToDictionary(g => g.Id, g => g.Name);
            var doc = new BackupDocument
            {
                ExportedAt = Times.Format(Database.NowMs()),
                IncludesKeys = includeKeys,
                Channels = channelList.Select(c =>
                {
                    var dto = ChannelsApi.ToDto(c, includeSecrets: includeKeys);
                    return includeKeys ? dto : dto with { Keys = dto.Keys.Select(k => k with { Key = null }).ToList() };
                }).ToList(),
                Groups = groupList.Select(g => GroupsApi.ToDto(g, names)).ToList(),
                ApiKeys = (await keys.ListAsync(ct)).Select(k => new BackupApiKey
                {
                    Id = k.Id,
                    Name = k.Name,
                    KeyHash = k.KeyHash,
                    KeyHint = k.KeyHint,
                    Enabled = k.Enabled,
                    ExpiresAt = Times.Format(k.ExpiresAt),
                    AllowedGroups = [.. k.AllowedGroups],
                    Budget = k.Budget,
                    BudgetPeriod = k.BudgetPeriod,
                    Rpm = k.RequestsPerMinute,
                    Tpm = k.TokensPerMinute,
                    MaxConcurrency = k.MaxConcurrency,
                    GroupLimits = k.GroupLimits.Count == 0 ? null : k.GroupLimits.ToDictionary(),
                    CreatedAt = Times.Format(k.CreatedAt),
                    UpdatedAt = Times.Format(k.UpdatedAt),
                }).ToList(),
                Prices = (await prices.ListAsync(ct)).Where(p => p.Source == PriceSource.User)
                    .Select(p => new BackupPrice(p.Model, p.Input, p.Output, p.CacheRead, p.CacheWrite, p.Image)).ToList(),
                // Secret settings (proxy password, webhook token) come in clear only with the keys, as channel proxies do.
                Settings = SettingsRegistry.All.Where(d => stored.ContainsKey(d.Name))
                    .ToDictionary(d => d.Name, d => d.Mask is { } mask && !includeKeys ? mask(stored[d.Name]) : stored[d.Name]),
                Routes = (await routes.ListAsync(ct)).Select(r => RoutesApi.ToDto(r, groupNames)).ToList(),
            };
            ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"octopus-backup-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json\"";
            return ApiResults.Json(doc, AdminJsonContext.Default.BackupDocument);
        });

        api.MapPost("/backup", Import);
    }

    private static async Task<IResult> Import(HttpContext ctx, BackupStore backup, SettingsService settings, Configuration.OctopusConfig config)
    {
        // The one admin endpoint allowed up to server.max_body_mb: backups with many channels get big.
        var limit = (long)config.MaxBodyMb * 1024 * 1024;
        if (ctx.Request.ContentLength > limit) return ApiResults.Error(413, "payload_too_large", $"backup is larger than {config.MaxBodyMb} MiB");
        BackupDocument? doc;
        try
        {
            doc = await JsonSerializer.DeserializeAsync(ctx.Request.Body, AdminJsonContext.Default.BackupDocument, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            return ApiResults.Invalid(string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.'), "not a valid backup document: " + e.Message.Split(" Path:")[0]);
        }
        if (doc is null) return ApiResults.Invalid("body", "must be a backup document");
        if (doc.Version != 1) return ApiResults.Invalid("version", "must be 1");

        var errors = new Dictionary<string, string>();
        var data = ToData(doc, errors);
        if (errors.Count > 0) return ApiResults.Invalid(errors);
        await backup.ReplaceAsync(data, ctx.RequestAborted);
        await settings.ReloadAsync(ctx.RequestAborted);
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(new BackupImportReply(data.Channels.Count, data.Groups.Count, data.ApiKeys.Count, data.PriceOverrides.Count, data.Settings.Count, data.Routes.Count),
            AdminJsonContext.Default.BackupImportReply);
    }

    private static ConfigurationData ToData(BackupDocument doc, Dictionary<string, string> errors)
    {
        long Time(string? text, string path)
        {
            if (string.IsNullOrEmpty(text)) return 0;
            if (Times.TryParse(text, out var ms)) return ms;
            errors[path] = "must be an RFC 3339 time";
            return 0;
        }

        var channels = new List<Channel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < doc.Channels.Count; i++)
        {
            var c = doc.Channels[i];
            var path = $"channels[{i}]";
            if (c.Id <= 0) errors[path + ".id"] = "must be a positive id";
            if (string.IsNullOrWhiteSpace(c.Name)) errors[path + ".name"] = "must not be empty";
            else if (!names.Add(c.Name)) errors[path + ".name"] = "is used twice";
            if (!ChannelTypes.TryParse(c.Type, out var type)) errors[path + ".type"] = "must be one of " + string.Join(", ", ChannelTypes.All);
            for (var u = 0; u < c.BaseUrls.Count; u++)
                if (!JsonInput.IsHttpUrl(c.BaseUrls[u])) errors[$"{path}.base_urls[{u}]"] = "must be an absolute http or https URL";
            var endpoints = new List<ChannelEndpoint>();
            for (var e = 0; e < c.Endpoints.Count; e++)
            {
                var ep = c.Endpoints[e];
                if (!ChannelTypes.TryParse(ep.Type, out var epType)) errors[$"{path}.endpoints[{e}].type"] = "must be one of " + string.Join(", ", ChannelTypes.All);
                if (ep.BaseUrls.Count == 0) errors[$"{path}.endpoints[{e}].base_urls"] = "must list at least one URL";
                for (var u = 0; u < ep.BaseUrls.Count; u++)
                    if (!JsonInput.IsHttpUrl(ep.BaseUrls[u])) errors[$"{path}.endpoints[{e}].base_urls[{u}]"] = "must be an absolute http or https URL";
                endpoints.Add(new ChannelEndpoint { Type = epType, BaseUrls = ep.BaseUrls.Select(u => new ChannelBaseUrl { Url = u }).ToList() });
            }
            if (ChannelsApi.EndpointProblem(type, endpoints, out var bad) is { } endpointProblem) errors[$"{path}.endpoints[{bad}].type"] = endpointProblem;
            channels.Add(new Channel
            {
                Id = c.Id,
                Name = c.Name,
                Type = type,
                Enabled = c.Enabled,
                BaseUrls = c.BaseUrls.Select(u => new ChannelBaseUrl { Url = u }).ToList(),
                Endpoints = endpoints,
                Keys = c.Keys.Select((k, j) => new ChannelKey
                {
                    Id = k.Id,
                    Secret = k.Key ?? "",
                    Enabled = k.Enabled,
                    Status = k.Status is KeyStatus.SetAside ? KeyStatus.SetAside : KeyStatus.Active,
                    StatusReason = k.StatusReason,
                    StatusAt = k.StatusAt is null ? null : Time(k.StatusAt, $"{path}.keys[{j}].status_at"),
                    Remark = k.Remark,
                }).ToList(),
                Models = c.Models,
                SyncedModels = c.SyncedModels,
                AutoSync = c.AutoSync,
                ModelFilter = c.ModelFilter,
                Headers = c.Headers,
                Proxy = c.Proxy,
                ParamOverride = c.ParamOverride is { ValueKind: JsonValueKind.Object } p ? p.GetRawText() : null,
                ProbePolicy = string.IsNullOrEmpty(c.ProbePolicy) ? "passive" : c.ProbePolicy,
                AddCacheBreakpoints = c.AddCacheBreakpoints,
                CreatedAt = Time(c.CreatedAt, path + ".created_at"),
                UpdatedAt = Time(c.UpdatedAt, path + ".updated_at"),
            });
        }
        var channelIds = channels.Select(c => c.Id).ToHashSet();

        var groups = new List<Group>();
        names.Clear();
        for (var i = 0; i < doc.Groups.Count; i++)
        {
            var g = doc.Groups[i];
            var path = $"groups[{i}]";
            if (g.Id <= 0) errors[path + ".id"] = "must be a positive id";
            if (string.IsNullOrWhiteSpace(g.Name)) errors[path + ".name"] = "must not be empty";
            else if (!names.Add(g.Name)) errors[path + ".name"] = "is used twice";
            if (!GroupModes.TryParse(g.Mode, out var mode)) errors[path + ".mode"] = "must be one of " + string.Join(", ", GroupModes.All);
            for (var m = 0; m < g.Members.Count; m++)
            {
                if (!channelIds.Contains(g.Members[m].ChannelId)) errors[$"{path}.members[{m}].channel_id"] = "is not a channel in this backup";
                if (g.Members[m].Weight < 0) errors[$"{path}.members[{m}].weight"] = "must not be negative";
                if (g.Members[m].Priority < 0) errors[$"{path}.members[{m}].priority"] = "must not be negative";
            }
            groups.Add(new Group
            {
                Id = g.Id,
                Name = g.Name,
                Mode = mode,
                Members = g.Members.Select(m => new GroupMember { Id = m.Id, ChannelId = m.ChannelId, Model = m.Model, Priority = m.Priority, Weight = m.Weight, Pinned = m.Pinned }).ToList(),
                Settings = new GroupSettings
                {
                    AttemptsPerMember = g.Settings.AttemptsPerMember,
                    RetryIntervalMs = g.Settings.RetryIntervalMs,
                    FirstEventTimeoutSeconds = g.Settings.FirstEventTimeoutSeconds,
                    ResponseTimeoutSeconds = g.Settings.ResponseTimeoutSeconds,
                    CooldownSeconds = g.Settings.CooldownSeconds,
                    AffinitySeconds = g.Settings.AffinitySeconds,
                },
                Aliases = g.Aliases,
                Visible = g.Visible,
                CreatedAt = Time(g.CreatedAt, path + ".created_at"),
                UpdatedAt = Time(g.UpdatedAt, path + ".updated_at"),
            });
        }

        var keys = new List<ApiKey>();
        names.Clear();
        for (var i = 0; i < doc.ApiKeys.Count; i++)
        {
            var k = doc.ApiKeys[i];
            var path = $"api_keys[{i}]";
            if (k.Id <= 0) errors[path + ".id"] = "must be a positive id";
            if (string.IsNullOrWhiteSpace(k.Name)) errors[path + ".name"] = "must not be empty";
            else if (!names.Add(k.Name)) errors[path + ".name"] = "is used twice";
            if (k.KeyHash.Length != 64) errors[path + ".key_hash"] = "must be a 64-character hex SHA-256";
            foreach (var (group, l) in k.GroupLimits ?? [])
                if (l.Rpm < 1 || l.Tpm < 1 || l.MaxConcurrency < 1) errors[$"{path}.group_limits.{group}"] = "limits must be at least 1";
            keys.Add(new ApiKey
            {
                Id = k.Id,
                Name = k.Name,
                KeyHash = k.KeyHash,
                KeyHint = k.KeyHint,
                Enabled = k.Enabled,
                ExpiresAt = k.ExpiresAt is null ? null : Time(k.ExpiresAt, path + ".expires_at"),
                AllowedGroups = k.AllowedGroups,
                Budget = k.Budget,
                BudgetPeriod = k.BudgetPeriod,
                RequestsPerMinute = k.Rpm,
                TokensPerMinute = k.Tpm,
                MaxConcurrency = k.MaxConcurrency,
                GroupLimits = k.GroupLimits?.Where(g => !g.Value.IsEmpty).ToDictionary() ?? ApiKey.EmptyGroupLimits,
                CreatedAt = Time(k.CreatedAt, path + ".created_at"),
                UpdatedAt = Time(k.UpdatedAt, path + ".updated_at"),
            });
        }

        foreach (var (name, value) in doc.Settings)
        {
            if (SettingsRegistry.Find(name) is not { } d) errors["settings." + name] = "unknown setting";
            else if (d.Check(value) is { } problem) errors["settings." + name] = problem;
        }

        var routes = new List<RoutingRule>();
        var groupIds = groups.GroupBy(g => g.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Id, StringComparer.Ordinal);
        names.Clear();
        for (var i = 0; i < doc.Routes.Count; i++)
        {
            var r = doc.Routes[i];
            var path = $"routes[{i}]";
            if (r.Id <= 0) errors[path + ".id"] = "must be a positive id";
            if (string.IsNullOrWhiteSpace(r.Name)) errors[path + ".name"] = "must not be empty";
            else if (!names.Add(r.Name)) errors[path + ".name"] = "is used twice";
            if (r.Priority < 0) errors[path + ".priority"] = "must not be negative";
            if (!groupIds.TryGetValue(r.Group, out var groupId)) errors[path + ".group"] = "is not a group in this backup";
            if (r.Match.Protocol is { } protocol && !Octopus.Protocols.ApiProtocols.TryParse(protocol, out _)) errors[path + ".match.protocol"] = "is not a protocol";
            foreach (var (field, pattern) in new[] { ("model", r.Match.Model) }.Concat(r.Match.Header?.Select(h => ("header." + h.Key, (string?)h.Value)) ?? []))
                if (pattern is not null && pattern.StartsWith("re:", StringComparison.Ordinal) && !JsonInput.IsValidRegex(pattern[3..]))
                    errors[$"{path}.match.{field}"] = "must be a valid regular expression after re:";
            routes.Add(new RoutingRule
            {
                Id = r.Id,
                Name = r.Name,
                Priority = r.Priority,
                Match = RoutesApi.ToMatch(r.Match),
                GroupId = groupId,
                CreatedAt = Time(r.CreatedAt, path + ".created_at"),
                UpdatedAt = Time(r.UpdatedAt, path + ".updated_at"),
            });
        }

        return new ConfigurationData
        {
            Routes = routes,
            Channels = channels,
            Groups = groups,
            ApiKeys = keys,
            PriceOverrides = doc.Prices.Select(p => new Price { Model = p.Model, Input = p.Input, Output = p.Output, CacheRead = p.CacheRead, CacheWrite = p.CacheWrite, Image = p.Image, Source = PriceSource.User }).ToList(),
            Settings = doc.Settings,
        };
    }
}
