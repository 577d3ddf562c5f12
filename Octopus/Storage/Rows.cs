namespace Octopus.Storage;

// Row shapes as the tables hold them: integers are 64-bit, lists are JSON text. Stores map them to Domain records.
// Dapper.AOT matches columns to properties ignoring case and underscores.

internal sealed class ChannelRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public bool Enabled { get; set; }
    public string Models { get; set; } = "[]";
    public string SyncedModels { get; set; } = "[]";
    public bool AutoSync { get; set; }
    public string? ModelFilter { get; set; }
    public string Headers { get; set; } = "{}";
    public string? Proxy { get; set; }
    public string? ParamOverride { get; set; }
    public string ProbePolicy { get; set; } = "";
    public bool AddCacheBreakpoints { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class ChannelBaseUrlRow
{
    public long Id { get; set; }
    public long ChannelId { get; set; }
    public string Url { get; set; } = "";
}

internal sealed class ChannelEndpointRow
{
    public long Id { get; set; }
    public long ChannelId { get; set; }
    public string Type { get; set; } = "";
    public string Url { get; set; } = "";
}

internal sealed class ChannelKeyRow
{
    public long Id { get; set; }
    public long ChannelId { get; set; }
    public string Secret { get; set; } = "";
    public bool Enabled { get; set; }
    public string Status { get; set; } = "";
    public string? StatusReason { get; set; }
    public long? StatusAt { get; set; }
    public string? Remark { get; set; }
}

internal sealed class GroupRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Mode { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public string Aliases { get; set; } = "[]";
    public bool Visible { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class GroupMemberRow
{
    public long Id { get; set; }
    public long GroupId { get; set; }
    public long ChannelId { get; set; }
    public string Model { get; set; } = "";
    public long Priority { get; set; }
    public long Weight { get; set; }
    public bool Pinned { get; set; }
}

internal sealed class ApiKeyRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string KeyHash { get; set; } = "";
    public string KeyHint { get; set; } = "";
    public bool Enabled { get; set; }
    public long? ExpiresAt { get; set; }
    public string AllowedGroups { get; set; } = "[]";
    public double? Budget { get; set; }
    public string BudgetPeriod { get; set; } = "";
    public long? Rpm { get; set; }
    public long? Tpm { get; set; }
    public long? MaxConcurrency { get; set; }
    public string? GroupLimits { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class AdminUserRow
{
    public long Id { get; set; }
    public string Username { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public bool MustChangePassword { get; set; }
    public long TokenVersion { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class PriceRow
{
    public string Model { get; set; } = "";
    public string Source { get; set; } = "";
    public double Input { get; set; }
    public double Output { get; set; }
    public double CacheRead { get; set; }
    public double CacheWrite { get; set; }
    public double Image { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class SettingRow
{
    public string Name { get; set; } = "";
    public string Value { get; set; } = "";
}

internal sealed class RequestLogRow
{
    public long Id { get; set; }
    public long StartedAt { get; set; }
    public long? ApiKeyId { get; set; }
    public string? ApiKeyName { get; set; }
    public string? ClientIp { get; set; }
    public string? RequestedModel { get; set; }
    public string? GroupName { get; set; }
    public long? ChannelId { get; set; }
    public string? ChannelName { get; set; }
    public string? UpstreamModel { get; set; }
    public long Status { get; set; }
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
    public string Attempts { get; set; } = "[]";
}

internal sealed class RequestBodyRow
{
    public long LogId { get; set; }
    public long StartedAt { get; set; }
    public string? Request { get; set; }
    public string? Response { get; set; }
}

internal sealed class StatsRow
{
    /// <summary>The grouping value as text (channel id, model, ...) or the hour, depending on the query.</summary>
    public string Dim { get; set; } = "";
    public long RequestsOk { get; set; }
    public long RequestsFailed { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public long ReasoningTokens { get; set; }
    public double Cost { get; set; }
    public long LatencyMsTotal { get; set; }
    public long TtftMsTotal { get; set; }
}
