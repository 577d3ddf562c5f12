// DTO properties are settable, not init: the JSON source generator treats init-only properties like constructor
// arguments and would overwrite their defaults with null when a backup omits a list.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Octopus.Admin;

// Shapes of the admin API's JSON (snake_case). Requests are read field by field (see JsonInput) so unknown fields
// can be named; replies and the backup document go through this source-generated context.

internal sealed record ErrorReply(ErrorBody Error);

internal sealed record ErrorBody(string Code, string Message)
{
    /// <summary>Field → problem, for validation errors (400).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Fields { get; set; }
}

internal sealed record LoginReply(string Token, string ExpiresAt, bool MustChangePassword);

internal sealed record MeReply(string Username, bool MustChangePassword);

internal sealed record ChannelDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public bool Enabled { get; set; }
    public List<string> BaseUrls { get; set; } = [];
    /// <summary>Further protocols of a multi-protocol channel; empty for a single-protocol one.</summary>
    public List<ChannelEndpointDto> Endpoints { get; set; } = [];
    public List<ChannelKeyDto> Keys { get; set; } = [];
    public List<string> Models { get; set; } = [];
    public List<string> SyncedModels { get; set; } = [];
    public bool AutoSync { get; set; }
    public string? ModelFilter { get; set; }
    public Dictionary<string, string> Headers { get; set; } = [];
    public string? Proxy { get; set; }
    public JsonElement? ParamOverride { get; set; }
    public string ProbePolicy { get; set; } = "";
    public bool AddCacheBreakpoints { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
    /// <summary>Recent attempts (admin replies only, never in a backup).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChannelHealthDto? Health { get; set; }
}

/// <summary>A channel's (or, in <see cref="Keys"/>, one key's) last attempts as this process saw them.</summary>
internal sealed record ChannelHealthDto
{
    /// <summary>Key id, in <see cref="Keys"/> only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Id { get; set; }
    /// <summary>How many recent attempts are kept.</summary>
    public int Window { get; set; }
    public int Attempts { get; set; }
    public int Succeeded { get; set; }
    public double? SuccessRate { get; set; }
    /// <summary>Mean duration of the attempts that worked (a stream's whole length).</summary>
    public long? AvgLatencyMs { get; set; }
    public string? Since { get; set; }
    public string? LastAt { get; set; }
    public HealthErrorDto? LastError { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<ChannelHealthDto>? Keys { get; set; }
}

internal sealed record HealthErrorDto(string At, int Status, string Message);

internal sealed record ChannelEndpointDto
{
    public string Type { get; set; } = "";
    public List<string> BaseUrls { get; set; } = [];
}

internal sealed record ChannelKeyDto
{
    public long Id { get; set; }
    /// <summary>Masked in every reply but the reveal call; the full secret in a backup with keys.</summary>
    public string? Key { get; set; }
    public bool Enabled { get; set; }
    public string Status { get; set; } = "";
    public string? StatusReason { get; set; }
    public string? StatusAt { get; set; }
    public string? Remark { get; set; }
}

internal sealed record ChannelTestReply(bool Ok, int Status, long LatencyMs, string Model)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; set; }
}

internal sealed record SyncModelsReply(List<string> Models, List<string> Added, List<string> Removed);

internal sealed record FetchModelsReply(List<string> Models);

internal sealed record RevealReply(string Key);

internal sealed record GroupDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Mode { get; set; } = "";
    public List<GroupMemberDto> Members { get; set; } = [];
    public GroupSettingsDto Settings { get; set; } = new();
    public List<string> Aliases { get; set; } = [];
    public bool Visible { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

internal sealed record GroupMemberDto
{
    public long Id { get; set; }
    public long ChannelId { get; set; }
    public string? ChannelName { get; set; }
    public string Model { get; set; } = "";
    public int Priority { get; set; }
    public int Weight { get; set; }
    public bool Pinned { get; set; }
}

internal sealed record GroupSettingsDto
{
    public int? AttemptsPerMember { get; set; }
    public int? RetryIntervalMs { get; set; }
    public int? FirstEventTimeoutSeconds { get; set; }
    public int? ResponseTimeoutSeconds { get; set; }
    public int? StreamIdleTimeoutSeconds { get; set; }
    public int? CooldownSeconds { get; set; }
    public int? AffinitySeconds { get; set; }
}

internal sealed record FromChannelReply(List<GroupDto> Created, List<string> Skipped);

internal sealed record ApiKeyDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string KeyHint { get; set; } = "";
    public bool Enabled { get; set; }
    public string? ExpiresAt { get; set; }
    public List<string> AllowedGroups { get; set; } = [];
    public double? Budget { get; set; }
    public string BudgetPeriod { get; set; } = "";
    public int? Rpm { get; set; }
    public int? Tpm { get; set; }
    public int? MaxConcurrency { get; set; }
    /// <summary>Group name → limits on this key's requests to that group.</summary>
    public Dictionary<string, Domain.RateLimits> GroupLimits { get; set; } = [];
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
    /// <summary>The full secret: only in the reply that creates the key.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Key { get; set; }
}

internal sealed record PriceDto
{
    public string Model { get; set; } = "";
    public double Input { get; set; }
    public double Output { get; set; }
    public double CacheRead { get; set; }
    public double CacheWrite { get; set; }
    /// <summary>USD per generated image (0 = image requests are priced by their tokens).</summary>
    public double Image { get; set; }
    /// <summary>user (an override is in force) | synced</summary>
    public string Source { get; set; } = "";
    public PriceValuesDto? Synced { get; set; }
    public string UpdatedAt { get; set; } = "";
}

internal sealed record PriceValuesDto(double Input, double Output, double CacheRead, double CacheWrite, double Image);

internal sealed record PriceSyncReply(int Updated)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ErrorBody? Error { get; set; }
}

internal sealed record LogDto
{
    public long Id { get; set; }
    public string Time { get; set; } = "";
    public long? ApiKeyId { get; set; }
    public string? ApiKeyName { get; set; }
    public string? ClientIp { get; set; }
    public string? RequestedModel { get; set; }
    public string? GroupName { get; set; }
    public long? ChannelId { get; set; }
    public string? ChannelName { get; set; }
    public string? UpstreamModel { get; set; }
    public int Status { get; set; }
    public string? Error { get; set; }
    public long LatencyMs { get; set; }
    public long? TtftMs { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public long ReasoningTokens { get; set; }
    public double Cost { get; set; }
    public bool Stream { get; set; }
    public string ProtocolIn { get; set; } = "";
    public string? ProtocolOut { get; set; }
    /// <summary>Only in the detail view.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<AttemptDto>? Attempts { get; set; }
}

internal sealed record AttemptDto(long ChannelId, string ChannelName, string BaseUrl, string Model, long KeyId, int Status, string? Error, long DurationMs);

internal sealed record LogBodyDto(string? Request, string? Response);


internal sealed record LogPageDto(List<LogDto> Items, long? NextCursor);

internal sealed record StatsTotalReply(long Requests, long Succeeded, long Failed, long InputTokens, long OutputTokens, double Cost);

internal sealed record StatsSummaryReply(
    long Requests, long Succeeded, long Failed, double SuccessRate, long InputTokens, long OutputTokens,
    long CacheReadTokens, long CacheWriteTokens, double Cost, double CacheHitRate);

internal sealed record StatsPointDto(string T, long Requests, long Failed, long InputTokens, long OutputTokens, double Cost);

internal sealed record StatsSeriesReply(List<StatsPointDto> Points);

internal sealed record StatsTopDto(string Key, string Name, long Requests, long Failed, long InputTokens, long OutputTokens, double Cost, double CacheHitRate);

/// <summary>GET /self: one client key's own view.</summary>
internal sealed record SelfReply
{
    public string Name { get; set; } = "";
    public string KeyHint { get; set; } = "";
    public bool Enabled { get; set; }
    public string? ExpiresAt { get; set; }
    public List<string> AllowedGroups { get; set; } = [];
    public double? Budget { get; set; }
    public string BudgetPeriod { get; set; } = "";
    /// <summary>Cost in the current budget period.</summary>
    public double BudgetUsed { get; set; }
    public double? BudgetLeft { get; set; }
    public string? BudgetResetsAt { get; set; }
    public SelfUsage Usage { get; set; } = new();
    public SelfLimits Limits { get; set; } = new();
}

internal sealed record SelfUsage
{
    public SelfTotals? Today { get; set; }
    /// <summary>The current budget period (all time for `total`).</summary>
    public SelfTotals? Period { get; set; }
    public SelfTotals? Total { get; set; }
}

internal sealed record SelfTotals(string? From, long Requests, long Succeeded, long Failed, long InputTokens, long OutputTokens, double Cost);

internal sealed record SelfWindow(long Requests, long Tokens, int InFlight);

internal sealed record SelfLimits
{
    public int? Rpm { get; set; }
    public int? Tpm { get; set; }
    public int? MaxConcurrency { get; set; }
    /// <summary>Use of the key-wide limits: requests and tokens in the last 60 s, requests in flight.</summary>
    public SelfWindow Window { get; set; } = new(0, 0, 0);
    public Dictionary<string, SelfGroupLimits> Groups { get; set; } = [];
}

internal sealed record SelfGroupLimits
{
    public int? Rpm { get; set; }
    public int? Tpm { get; set; }
    public int? MaxConcurrency { get; set; }
    public SelfWindow Window { get; set; } = new(0, 0, 0);
}

/// <summary>One file holding the whole configuration. Channel key secrets only with include_keys=true.</summary>
internal sealed record BackupDocument
{
    public int Version { get; set; } = 1;
    public string ExportedAt { get; set; } = "";
    public bool IncludesKeys { get; set; }
    public List<ChannelDto> Channels { get; set; } = [];
    public List<GroupDto> Groups { get; set; } = [];
    public List<BackupApiKey> ApiKeys { get; set; } = [];
    public List<BackupPrice> Prices { get; set; } = [];
    public Dictionary<string, string> Settings { get; set; } = [];
    /// <summary>Routing rules, naming their group; absent in backups made before routes existed.</summary>
    public List<RouteDto> Routes { get; set; } = [];
}

internal sealed record BackupApiKey
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string KeyHash { get; set; } = "";
    public string KeyHint { get; set; } = "";
    public bool Enabled { get; set; } = true;
    public string? ExpiresAt { get; set; }
    public List<string> AllowedGroups { get; set; } = [];
    public double? Budget { get; set; }
    public string BudgetPeriod { get; set; } = "total";
    public int? Rpm { get; set; }
    public int? Tpm { get; set; }
    public int? MaxConcurrency { get; set; }
    public Dictionary<string, Domain.RateLimits>? GroupLimits { get; set; }
    public string? CreatedAt { get; set; }
    public string? UpdatedAt { get; set; }
}

internal sealed record BackupPrice(string Model, double Input, double Output, double CacheRead, double CacheWrite, double Image = 0);

internal sealed record BackupImportReply(int Channels, int Groups, int ApiKeys, int Prices, int Settings, int Routes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ErrorReply))]
[JsonSerializable(typeof(LoginReply))]
[JsonSerializable(typeof(MeReply))]
[JsonSerializable(typeof(ChannelDto))]
[JsonSerializable(typeof(List<ChannelDto>))]
[JsonSerializable(typeof(ChannelKeyDto))]
[JsonSerializable(typeof(ChannelHealthDto))]
[JsonSerializable(typeof(ChannelTestReply))]
[JsonSerializable(typeof(SyncModelsReply))]
[JsonSerializable(typeof(FetchModelsReply))]
[JsonSerializable(typeof(RevealReply))]
[JsonSerializable(typeof(GroupDto))]
[JsonSerializable(typeof(List<GroupDto>))]
[JsonSerializable(typeof(FromChannelReply))]
[JsonSerializable(typeof(RouteDto))]
[JsonSerializable(typeof(List<RouteDto>))]
[JsonSerializable(typeof(LogCleanupPreviewReply))]
[JsonSerializable(typeof(LogCleanupReply))]
[JsonSerializable(typeof(ApiKeyDto))]
[JsonSerializable(typeof(List<ApiKeyDto>))]
[JsonSerializable(typeof(List<PriceDto>))]
[JsonSerializable(typeof(PriceSyncReply))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(LogPageDto))]
[JsonSerializable(typeof(LogDto))]
[JsonSerializable(typeof(StatsTotalReply))]
[JsonSerializable(typeof(StatsSummaryReply))]
[JsonSerializable(typeof(StatsSeriesReply))]
[JsonSerializable(typeof(List<StatsTopDto>))]
[JsonSerializable(typeof(SelfReply))]
[JsonSerializable(typeof(BackupDocument))]
[JsonSerializable(typeof(BackupImportReply))]
[JsonSerializable(typeof(KeyHealthReply))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
