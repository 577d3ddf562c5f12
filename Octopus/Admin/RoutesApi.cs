using System.Text.Json;
using System.Text.Json.Serialization;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>/routes: routing rules, tried by priority then id; the first whose match the request meets picks its group.</summary>
internal static class RoutesApi
{
    private static readonly string[] Fields = ["name", "priority", "match", "group", "id", "created_at", "updated_at"];
    private static readonly string[] MatchFields = ["model", "protocol", "min_input_tokens", "has_images", "has_tools", "thinking", "header"];
    private static readonly string[] Protocols = ["openai_chat", "openai_responses", "anthropic", "gemini"];

    public static void MapRoutes(this RouteGroupBuilder api)
    {
        api.MapGet("/routes", async (RoutingRuleStore routes, GroupStore groups, CancellationToken ct) =>
        {
            var names = await GroupNamesAsync(groups, ct);
            return ApiResults.Json((await routes.ListAsync(ct)).Select(r => ToDto(r, names)).ToList(), AdminJsonContext.Default.ListRouteDto);
        });
        api.MapGet("/routes/{id:long}", async (long id, RoutingRuleStore routes, GroupStore groups, CancellationToken ct) =>
            await routes.GetAsync(id, ct) is { } r
                ? ApiResults.Json(ToDto(r, await GroupNamesAsync(groups, ct)), AdminJsonContext.Default.RouteDto)
                : ApiResults.NotFound("route"));
        api.MapPost("/routes", async (HttpContext ctx, RoutingRuleStore routes, GroupStore groups) =>
        {
            var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
            if (error is not null) return error;
            var names = await GroupNamesAsync(groups, ctx.RequestAborted);
            var rule = Parse(input!, null, names);
            if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
            var created = await routes.CreateAsync(rule!, ctx.RequestAborted);
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return ApiResults.Json(ToDto(created, names), AdminJsonContext.Default.RouteDto, 201);
        });
        api.MapPut("/routes/{id:long}", async (long id, HttpContext ctx, RoutingRuleStore routes, GroupStore groups) =>
        {
            var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
            if (error is not null) return error;
            var existing = await routes.GetAsync(id, ctx.RequestAborted);
            if (existing is null) return ApiResults.NotFound("route");
            var names = await GroupNamesAsync(groups, ctx.RequestAborted);
            var rule = Parse(input!, existing, names);
            if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
            var updated = await routes.UpdateAsync(rule!, ctx.RequestAborted);
            if (updated is null) return ApiResults.NotFound("route");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return ApiResults.Json(ToDto(updated, names), AdminJsonContext.Default.RouteDto);
        });
        api.MapDelete("/routes/{id:long}", async (long id, HttpContext ctx, RoutingRuleStore routes) =>
        {
            if (!await routes.DeleteAsync(id, ctx.RequestAborted)) return ApiResults.NotFound("route");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return Results.NoContent();
        });
    }

    private static async Task<Dictionary<long, string>> GroupNamesAsync(GroupStore groups, CancellationToken ct) =>
        (await groups.ListAsync(ct)).ToDictionary(g => g.Id, g => g.Name);

    /// <summary>Create (existing = null) or partial update; `match`, when given, replaces the whole match.</summary>
    private static RoutingRule? Parse(JsonInput input, RoutingRule? existing, Dictionary<long, string> groups)
    {
        var creating = existing is null;
        var name = input.String("name", required: creating, maxLength: 255)?.Trim();
        var priority = input.Int("priority", min: 0, max: 1_000_000);
        long? groupId = null;
        if (input.String("group", required: creating, maxLength: 255) is { } groupName)
        {
            groupName = groupName.Trim();
            foreach (var (id, n) in groups)
                if (n == groupName) groupId = id;
            if (groupId is null) input.Fail("group", $"no group is named '{groupName}'");
        }
        RouteMatch? match = null;
        if (input.Element("match") is { } m)
        {
            if (m.ValueKind != JsonValueKind.Object) input.Fail("match", "must be an object");
            else match = ParseMatch(input.Nested(m, "match", MatchFields));
        }
        if (!input.IsValid) return null;
        return new RoutingRule
        {
            Id = existing?.Id ?? 0,
            Name = name ?? existing!.Name,
            Priority = priority ?? existing?.Priority ?? 0,
            Match = match ?? existing?.Match ?? new RouteMatch(),
            GroupId = groupId ?? existing!.GroupId,
        };
    }

    private static RouteMatch ParseMatch(JsonInput m)
    {
        var model = m.String("model", maxLength: 1024)?.Trim();
        if (model is not null) CheckPattern(m, "model", model);
        var protocol = m.String("protocol");
        if (protocol is not null && Array.IndexOf(Protocols, protocol) < 0) m.Fail("protocol", "must be one of " + string.Join(", ", Protocols));
        var minTokens = m.Long("min_input_tokens", min: 0, max: 100_000_000);
        var header = m.StringMap("header");
        if (header is not null)
        {
            foreach (var (hName, pattern) in header)
            {
                if (hName.Length == 0 || hName.Any(c => c <= ' ' || c >= 127 || c is ':' or '(' or ')' or ',' or '"' or '/' or '[' or ']' or '{' or '}' or ';' or '=' or '?' or '@' or '\\'))
                    m.Fail("header." + hName, "is not a valid HTTP header name");
                else CheckPattern(m, "header." + hName, pattern);
            }
        }
        return new RouteMatch
        {
            Model = model,
            Protocol = protocol,
            MinInputTokens = minTokens,
            HasImages = m.Bool("has_images"),
            HasTools = m.Bool("has_tools"),
            Thinking = m.Bool("thinking"),
            Header = header is { Count: > 0 } ? header : null,
        };
    }

    private static void CheckPattern(JsonInput m, string field, string pattern)
    {
        if (pattern.StartsWith("re:", StringComparison.Ordinal) && !JsonInput.IsValidRegex(pattern[3..]))
            m.Fail(field, "must be a valid regular expression after re:");
    }

    public static RouteDto ToDto(RoutingRule r, IReadOnlyDictionary<long, string> groupNames) => new()
    {
        Id = r.Id,
        Name = r.Name,
        Priority = r.Priority,
        Match = new RouteMatchDto
        {
            Model = r.Match.Model,
            Protocol = r.Match.Protocol,
            MinInputTokens = r.Match.MinInputTokens,
            HasImages = r.Match.HasImages,
            HasTools = r.Match.HasTools,
            Thinking = r.Match.Thinking,
            Header = r.Match.Header is null ? null : new Dictionary<string, string>(r.Match.Header),
        },
        Group = groupNames.TryGetValue(r.GroupId, out var g) ? g : "",
        CreatedAt = Times.Format(r.CreatedAt),
        UpdatedAt = Times.Format(r.UpdatedAt),
    };

    public static RouteMatch ToMatch(RouteMatchDto d) => new()
    {
        Model = d.Model,
        Protocol = d.Protocol,
        MinInputTokens = d.MinInputTokens,
        HasImages = d.HasImages,
        HasTools = d.HasTools,
        Thinking = d.Thinking,
        Header = d.Header is { Count: > 0 } h ? new Dictionary<string, string>(h) : null,
    };
}

internal sealed record RouteDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public int Priority { get; set; }
    public RouteMatchDto Match { get; set; } = new();
    /// <summary>The group's name (rules follow a renamed group).</summary>
    public string Group { get; set; } = "";
    public string? CreatedAt { get; set; }
    public string? UpdatedAt { get; set; }
}

/// <summary>Only the conditions a rule sets are written.</summary>
internal sealed record RouteMatchDto
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Model { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Protocol { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? MinInputTokens { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? HasImages { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? HasTools { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Thinking { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Header { get; set; }
}
