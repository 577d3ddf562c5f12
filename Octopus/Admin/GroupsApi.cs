using System.Text.Json;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>/groups: CRUD, member reorder, one group per model from a channel.</summary>
internal static class GroupsApi
{
    private static readonly string[] Fields = ["name", "mode", "members", "settings", "aliases", "visible", "id", "created_at", "updated_at"];
    private static readonly string[] MemberFields = ["id", "channel_id", "model", "priority", "weight", "pinned", "channel_name"];
    private static readonly string[] SettingFields =
        ["attempts_per_member", "retry_interval_ms", "first_event_timeout_seconds", "response_timeout_seconds", "stream_idle_timeout_seconds", "cooldown_seconds", "affinity_seconds"];

    public static void MapGroups(this RouteGroupBuilder api)
    {
        api.MapGet("/groups", async (GroupStore groups, ChannelStore channels, CancellationToken ct) =>
        {
            var names = await ChannelNamesAsync(channels, ct);
            return ApiResults.Json((await groups.ListAsync(ct)).Select(g => ToDto(g, names)).ToList(), AdminJsonContext.Default.ListGroupDto);
        });
        api.MapGet("/groups/{id:long}", async (long id, GroupStore groups, ChannelStore channels, CancellationToken ct) =>
            await groups.GetAsync(id, ct) is { } g
                ? ApiResults.Json(ToDto(g, await ChannelNamesAsync(channels, ct)), AdminJsonContext.Default.GroupDto)
                : ApiResults.NotFound("group"));
        api.MapPost("/groups", Create);
        api.MapPut("/groups/{id:long}", Update);
        api.MapDelete("/groups/{id:long}", async (long id, HttpContext ctx, GroupStore groups) =>
        {
            if (!await groups.DeleteAsync(id, ctx.RequestAborted)) return ApiResults.NotFound("group");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return Results.NoContent();
        });
        api.MapPost("/groups/{id:long}/members/reorder", Reorder);
        api.MapPost("/groups/from-channel", FromChannel);
    }

    public static async Task<Dictionary<long, string>> ChannelNamesAsync(ChannelStore channels, CancellationToken ct) =>
        (await channels.ListAsync(ct)).ToDictionary(c => c.Id, c => c.Name);

    private static async Task<IResult> Create(HttpContext ctx, GroupStore groups, ChannelStore channels)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var names = await ChannelNamesAsync(channels, ctx.RequestAborted);
        var (group, unknownChannel) = Parse(input!, null, names);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        if (unknownChannel is not null) return ApiResults.Unprocessable(unknownChannel, "no channel has this id");
        var created = await groups.CreateAsync(group!, ctx.RequestAborted);
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(created, names), AdminJsonContext.Default.GroupDto, 201);
    }

    private static async Task<IResult> Update(long id, HttpContext ctx, GroupStore groups, ChannelStore channels)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var existing = await groups.GetAsync(id, ctx.RequestAborted);
        if (existing is null) return ApiResults.NotFound("group");
        var names = await ChannelNamesAsync(channels, ctx.RequestAborted);
        var (group, unknownChannel) = Parse(input!, existing, names);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        if (unknownChannel is not null) return ApiResults.Unprocessable(unknownChannel, "no channel has this id");
        var updated = await groups.UpdateAsync(group!, ctx.RequestAborted);
        if (updated is null) return ApiResults.NotFound("group");
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(updated, names), AdminJsonContext.Default.GroupDto);
    }

    /// <summary>Create (existing = null) or partial update. Returns the path of a member whose channel does not exist.</summary>
    private static (Group? Group, string? UnknownChannel) Parse(JsonInput input, Group? existing, Dictionary<long, string> channels)
    {
        var creating = existing is null;
        var name = input.String("name", required: creating, maxLength: 255)?.Trim();
        GroupMode? mode = null;
        if (input.String("mode") is { } modeText)
        {
            if (GroupModes.TryParse(modeText, out var m)) mode = m;
            else input.Fail("mode", "must be one of " + string.Join(", ", GroupModes.All));
        }

        string? unknownChannel = null;
        List<GroupMember>? members = null;
        if (input.Element("members") is { } arr)
        {
            if (arr.ValueKind != JsonValueKind.Array) input.Fail("members", "must be an array");
            else
            {
                members = [];
                var i = 0;
                foreach (var item in arr.EnumerateArray())
                {
                    var path = $"members[{i}]";
                    if (item.ValueKind != JsonValueKind.Object) { input.Fail(path, "must be an object"); i++; continue; }
                    var m = input.Nested(item, path, MemberFields);
                    var memberId = m.Long("id", min: 1);
                    if (memberId is not null && existing?.Members.All(x => x.Id != memberId) != false) m.Fail("id", "is not a member of this group");
                    var channelId = m.Long("channel_id", min: 1, required: true);
                    var model = m.String("model", required: true, maxLength: 255)?.Trim();
                    var priority = m.Int("priority", min: 0);
                    var weight = m.Int("weight", min: 0, max: 1_000_000);
                    var pinned = m.Bool("pinned");
                    if (channelId is not null && !channels.ContainsKey(channelId.Value)) unknownChannel ??= path + ".channel_id";
                    if (channelId is not null && model is not null)
                        members.Add(new GroupMember { Id = memberId ?? 0, ChannelId = channelId.Value, Model = model, Priority = priority ?? i, Weight = weight ?? 1, Pinned = pinned ?? false });
                    i++;
                }
            }
        }

        GroupSettings? settings = null;
        if (input.Element("settings") is { } s)
        {
            if (s.ValueKind != JsonValueKind.Object) input.Fail("settings", "must be an object");
            else
            {
                var n = input.Nested(s, "settings", SettingFields);
                settings = new GroupSettings
                {
                    AttemptsPerMember = n.Int("attempts_per_member", min: 1, max: 100),
                    RetryIntervalMs = n.Int("retry_interval_ms", min: 0, max: 600_000),
                    FirstEventTimeoutSeconds = n.Int("first_event_timeout_seconds", min: 1, max: 3600),
                    ResponseTimeoutSeconds = n.Int("response_timeout_seconds", min: 1, max: 86_400),
                    StreamIdleTimeoutSeconds = n.Int("stream_idle_timeout_seconds", min: 1, max: 86_400),
                    CooldownSeconds = n.Int("cooldown_seconds", min: 0, max: 86_400),
                    AffinitySeconds = n.Int("affinity_seconds", min: 0, max: 30 * 86_400),
                };
            }
        }

        var aliases = input.StringList("aliases")?.Select(a => a.Trim()).Distinct(StringComparer.Ordinal).ToList();
        if (aliases is not null)
            for (var i = 0; i < aliases.Count; i++)
                if (aliases[i].StartsWith("re:", StringComparison.Ordinal) && !JsonInput.IsValidRegex(aliases[i][3..]))
                    input.Fail($"aliases[{i}]", "must be a valid regular expression after re:");
        var visible = input.Bool("visible");
        if (!input.IsValid) return (null, unknownChannel);

        return (new Group
        {
            Id = existing?.Id ?? 0,
            Name = name ?? existing!.Name,
            Mode = mode ?? existing?.Mode ?? GroupMode.RoundRobin,
            Members = members ?? existing?.Members ?? [],
            Settings = settings ?? existing?.Settings ?? new GroupSettings(),
            Aliases = aliases ?? existing?.Aliases ?? [],
            Visible = visible ?? existing?.Visible ?? true,
        }, unknownChannel);
    }

    private static async Task<IResult> Reorder(long id, HttpContext ctx, GroupStore groups, ChannelStore channels)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, ["member_ids"]);
        if (error is not null) return error;
        var ids = input!.Element("member_ids");
        List<long> order = [];
        if (ids is null) input.Fail("member_ids", "is required");
        else if (ids.Value.ValueKind != JsonValueKind.Array || ids.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out _)))
            input.Fail("member_ids", "must be an array of member ids");
        else order = ids.Value.EnumerateArray().Select(e => e.GetInt64()).ToList();
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);

        var group = await groups.GetAsync(id, ctx.RequestAborted);
        if (group is null) return ApiResults.NotFound("group");
        if (order.Count != group.Members.Count || order.Distinct().Count() != order.Count || order.Any(x => group.Members.All(m => m.Id != x)))
            return ApiResults.Invalid("member_ids", "must list every member id of the group exactly once");
        var members = order.Select((memberId, i) => group.Members.First(m => m.Id == memberId) with { Priority = i }).ToList();
        var updated = await groups.UpdateAsync(group with { Members = members }, ctx.RequestAborted);
        if (updated is null) return ApiResults.NotFound("group");
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(updated, await ChannelNamesAsync(channels, ctx.RequestAborted)), AdminJsonContext.Default.GroupDto);
    }

    private static async Task<IResult> FromChannel(HttpContext ctx, GroupStore groups, ChannelStore channels)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, ["channel_id", "models", "mode"]);
        if (error is not null) return error;
        var channelId = input!.Long("channel_id", min: 1, required: true);
        var models = input.StringList("models")?.Select(m => m.Trim()).ToList();
        var mode = GroupMode.RoundRobin;
        if (input.String("mode") is { } modeText && !GroupModes.TryParse(modeText, out mode))
            input.Fail("mode", "must be one of " + string.Join(", ", GroupModes.All));
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);
        var channel = await channels.GetAsync(channelId!.Value, ctx.RequestAborted);
        if (channel is null) return ApiResults.Unprocessable("channel_id", "no channel has this id");

        models ??= channel.Models.Concat(channel.SyncedModels).ToList();
        var existing = (await groups.ListAsync(ctx.RequestAborted)).Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var names = await ChannelNamesAsync(channels, ctx.RequestAborted);
        var created = new List<GroupDto>();
        var skipped = new List<string>();
        foreach (var model in models.Distinct(StringComparer.Ordinal))
        {
            if (existing.Contains(model)) { skipped.Add(model); continue; }
            try
            {
                var g = await groups.CreateAsync(new Group
                {
                    Name = model,
                    Mode = mode,
                    Members = [new GroupMember { ChannelId = channel.Id, Model = model }],
                }, ctx.RequestAborted);
                created.Add(ToDto(g, names));
            }
            catch (DuplicateNameException)
            {
                skipped.Add(model); // created meanwhile
            }
        }
        if (created.Count > 0) await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(new FromChannelReply(created, skipped), AdminJsonContext.Default.FromChannelReply);
    }

    public static GroupDto ToDto(Group g, IReadOnlyDictionary<long, string> channelNames) => new()
    {
        Id = g.Id,
        Name = g.Name,
        Mode = g.Mode.ToWire(),
        Members = g.Members.Select(m => new GroupMemberDto
        {
            Id = m.Id,
            ChannelId = m.ChannelId,
            ChannelName = channelNames.TryGetValue(m.ChannelId, out var n) ? n : null,
            Model = m.Model,
            Priority = m.Priority,
            Weight = m.Weight,
            Pinned = m.Pinned,
        }).ToList(),
        Settings = new GroupSettingsDto
        {
            AttemptsPerMember = g.Settings.AttemptsPerMember,
            RetryIntervalMs = g.Settings.RetryIntervalMs,
            FirstEventTimeoutSeconds = g.Settings.FirstEventTimeoutSeconds,
            ResponseTimeoutSeconds = g.Settings.ResponseTimeoutSeconds,
            StreamIdleTimeoutSeconds = g.Settings.StreamIdleTimeoutSeconds,
            CooldownSeconds = g.Settings.CooldownSeconds,
            AffinitySeconds = g.Settings.AffinitySeconds,
        },
        Aliases = [.. g.Aliases],
        Visible = g.Visible,
        CreatedAt = Times.Format(g.CreatedAt),
        UpdatedAt = Times.Format(g.UpdatedAt),
    };
}
