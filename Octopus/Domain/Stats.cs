namespace Octopus.Domain;

/// <summary>Counts to add to one stats row: (hour, client key, group, channel, upstream model).</summary>
internal sealed record StatsDelta
{
    /// <summary>Unix seconds of the hour's start (UTC).</summary>
    public long Hour { get; init; }
    /// <summary>0 when no client key was involved.</summary>
    public long ApiKeyId { get; init; }
    public string GroupName { get; init; } = "";
    /// <summary>0 when no channel was reached.</summary>
    public long ChannelId { get; init; }
    public string Model { get; init; } = "";
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
}
