namespace Octopus.Domain;

/// <summary>One client request as the relay saw it. Bodies live apart (<see cref="RequestBody"/>).</summary>
internal sealed record RequestLog
{
    public long Id { get; init; }
    /// <summary>Unix milliseconds when the request arrived.</summary>
    public long Time { get; init; }
    public long? ApiKeyId { get; init; }
    public string? ApiKeyName { get; init; }
    public string? ClientIp { get; init; }
    /// <summary>The `model` the client sent.</summary>
    public string? RequestedModel { get; init; }
    public string? GroupName { get; init; }
    /// <summary>The channel of the final attempt, if any.</summary>
    public long? ChannelId { get; init; }
    public string? ChannelName { get; init; }
    public string? UpstreamModel { get; init; }
    /// <summary>HTTP status the client got.</summary>
    public int Status { get; init; }
    public string? Error { get; init; }
    public long LatencyMs { get; init; }
    public long? TtftMs { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long CacheReadTokens { get; init; }
    public long CacheWriteTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public double Cost { get; init; }
    public bool Stream { get; init; }
    /// <summary>openai_chat | openai_responses | anthropic | gemini | ...</summary>
    public string ProtocolIn { get; init; } = "";
    public string? ProtocolOut { get; init; }
    public IReadOnlyList<RequestAttempt> Attempts { get; init; } = [];
}

internal sealed record RequestAttempt
{
    public long ChannelId { get; init; }
    public string ChannelName { get; init; } = "";
    public string BaseUrl { get; init; } = "";
    public string Model { get; init; } = "";
    public long KeyId { get; init; }
    /// <summary>Upstream HTTP status; 0 when no response (connect failure, timeout).</summary>
    public int Status { get; init; }
    public string? Error { get; init; }
    public long DurationMs { get; init; }
}

/// <summary>Captured request/response bodies of one request, kept with their own (shorter) retention.</summary>
internal sealed record RequestBody
{
    public long LogId { get; init; }
    public long Time { get; init; }
    public string? Request { get; init; }
    public string? Response { get; init; }
}
