using System.Security.Cryptography;
using System.Text;
using Octopus.Domain;
using Octopus.Storage;

namespace Octopus.Admin;

/// <summary>/api-keys: client keys for the relay. The secret is shown once, in the create reply.</summary>
internal static class ApiKeysApi
{
    private static readonly string[] LimitFields = ["rpm", "tpm", "max_concurrency"];
    private static readonly string[] BudgetPeriods = ["total", "daily", "weekly", "monthly"];
    private static readonly string[] Fields =
    [
        "name", "enabled", "expires_at", "allowed_groups", "budget", "budget_period", "rpm", "tpm", "max_concurrency",
        "group_limits", "id", "key_hint", "created_at", "updated_at",
    ];

    public static void MapApiKeys(this RouteGroupBuilder api)
    {
        api.MapGet("/api-keys", async (ApiKeyStore store, CancellationToken ct) =>
            ApiResults.Json((await store.ListAsync(ct)).Select(ToDto).ToList(), AdminJsonContext.Default.ListApiKeyDto));
        api.MapGet("/api-keys/{id:long}", async (long id, ApiKeyStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } k ? ApiResults.Json(ToDto(k), AdminJsonContext.Default.ApiKeyDto) : ApiResults.NotFound("api key"));
        api.MapPost("/api-keys", Create);
        api.MapPut("/api-keys/{id:long}", Update);
        api.MapDelete("/api-keys/{id:long}", async (long id, HttpContext ctx, ApiKeyStore store) =>
        {
            if (!await store.DeleteAsync(id, ctx.RequestAborted)) return ApiResults.NotFound("api key");
            await AdminEndpoints.ConfigChangedAsync(ctx);
            return Results.NoContent();
        });
    }

    /// <summary>A new client secret: `sk-oc-` + 43 base64url characters (256 bits).</summary>
    public static string NewSecret() => "sk-oc-" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Lower-case hex SHA-256 of the full secret: what the relay looks keys up by.</summary>
    public static string Hash(string secret) => Relay.ClientAuth.Hash(secret);

    public static string Hint(string secret) => secret.Length > 10 ? secret[..8] + "…" + secret[^2..] : "****";

    private static async Task<IResult> Create(HttpContext ctx, ApiKeyStore store)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var key = Parse(input!, null);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        var secret = NewSecret();
        var created = await store.CreateAsync(key! with { KeyHash = Hash(secret), KeyHint = Hint(secret) }, ctx.RequestAborted);
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(created) with { Key = secret }, AdminJsonContext.Default.ApiKeyDto, 201);
    }

    private static async Task<IResult> Update(long id, HttpContext ctx, ApiKeyStore store)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, Fields);
        if (error is not null) return error;
        var existing = await store.GetAsync(id, ctx.RequestAborted);
        if (existing is null) return ApiResults.NotFound("api key");
        var key = Parse(input!, existing);
        if (!input!.IsValid) return ApiResults.Invalid(input.Errors);
        var updated = await store.UpdateAsync(key!, ctx.RequestAborted);
        if (updated is null) return ApiResults.NotFound("api key");
        await AdminEndpoints.ConfigChangedAsync(ctx);
        return ApiResults.Json(ToDto(updated), AdminJsonContext.Default.ApiKeyDto);
    }

    private static ApiKey? Parse(JsonInput input, ApiKey? existing)
    {
        var name = input.String("name", required: existing is null, maxLength: 255)?.Trim();
        var enabled = input.Bool("enabled");
        var expiresAt = input.Present("expires_at") ? input.Time("expires_at") : existing?.ExpiresAt;
        var groups = input.StringList("allowed_groups")?.Select(g => g.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var budget = input.Present("budget") ? input.Double("budget", min: 0) : existing?.Budget;
        var period = input.String("budget_period");
        if (period is not null && !BudgetPeriods.Contains(period)) input.Fail("budget_period", "must be one of " + string.Join(", ", BudgetPeriods));
        var rpm = input.Present("rpm") ? input.Int("rpm", min: 1) : existing?.RequestsPerMinute;
        var tpm = input.Present("tpm") ? input.Int("tpm", min: 1) : existing?.TokensPerMinute;
        var concurrency = input.Present("max_concurrency") ? input.Int("max_concurrency", min: 1) : existing?.MaxConcurrency;
        var groupLimits = input.Present("group_limits") ? ParseGroupLimits(input) : existing?.GroupLimits;
        if (!input.IsValid) return null;
        return new ApiKey
        {
            Id = existing?.Id ?? 0,
            Name = name ?? existing!.Name,
            KeyHash = existing?.KeyHash ?? "",
            KeyHint = existing?.KeyHint ?? "",
            Enabled = enabled ?? existing?.Enabled ?? true,
            ExpiresAt = expiresAt,
            AllowedGroups = groups ?? existing?.AllowedGroups ?? [],
            Budget = budget,
            BudgetPeriod = period ?? existing?.BudgetPeriod ?? "total",
            RequestsPerMinute = rpm,
            TokensPerMinute = tpm,
            MaxConcurrency = concurrency,
            GroupLimits = groupLimits ?? ApiKey.EmptyGroupLimits,
        };
    }

    /// <summary>`{"group": {"rpm": 10, "tpm": null, "max_concurrency": 2}}`; null or {} clears; all-null entries are dropped.</summary>
    private static Dictionary<string, RateLimits> ParseGroupLimits(JsonInput input)
    {
        var limits = new Dictionary<string, RateLimits>(StringComparer.Ordinal);
        if (input.Element("group_limits") is not { } map) return limits;
        if (map.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            input.Fail("group_limits", "must be an object of group name to {rpm, tpm, max_concurrency}");
            return limits;
        }
        foreach (var entry in map.EnumerateObject())
        {
            var path = input.Path("group_limits") + "." + entry.Name;
            if (entry.Name.Trim().Length == 0 || entry.Name.Length > 255)
            {
                input.Fail("group_limits." + entry.Name, "must be a group name (1-255 characters)");
                continue;
            }
            if (entry.Value.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                input.Fail("group_limits." + entry.Name, "must be an object {rpm, tpm, max_concurrency}");
                continue;
            }
            var n = input.Nested(entry.Value, path, LimitFields);
            var l = new RateLimits { Rpm = n.Int("rpm", min: 1), Tpm = n.Int("tpm", min: 1), MaxConcurrency = n.Int("max_concurrency", min: 1) };
            if (!l.IsEmpty) limits[entry.Name.Trim()] = l;
        }
        return limits;
    }

    public static ApiKeyDto ToDto(ApiKey k) => new()
    {
        Id = k.Id,
        Name = k.Name,
        KeyHint = k.KeyHint,
        Enabled = k.Enabled,
        ExpiresAt = Times.Format(k.ExpiresAt),
        AllowedGroups = [.. k.AllowedGroups],
        Budget = k.Budget,
        BudgetPeriod = k.BudgetPeriod,
        Rpm = k.RequestsPerMinute,
        Tpm = k.TokensPerMinute,
        MaxConcurrency = k.MaxConcurrency,
        GroupLimits = k.GroupLimits.ToDictionary(),
        CreatedAt = Times.Format(k.CreatedAt),
        UpdatedAt = Times.Format(k.UpdatedAt),
    };
}
