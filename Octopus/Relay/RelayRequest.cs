using System.Diagnostics;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;

namespace Octopus.Relay;

/// <summary>Everything known about one client request while the relay works on it; becomes its log record.</summary>
internal sealed class RelayRequest
{
    public required HttpContext Http { get; init; }
    public required ApiProtocol Protocol { get; init; }
    public Routing.RelayOperation Operation { get; init; }
    /// <summary>Gemini batchEmbedContents (rather than embedContent).</summary>
    public bool GeminiBatch { get; init; }
    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>Unix milliseconds when the request arrived; setting it mints the log id.</summary>
    public required long Time
    {
        get;
        init
        {
            field = value;
            LogId = Stats.LogIds.Next(value);
        }
    }

    /// <summary>Minted on arrival, not when the log is queued: ids follow arrival order (<see cref="Stats.LogIds"/>).</summary>
    public long LogId { get; private init; }
    public ApiKey? ApiKey { get; set; }
    public byte[] Body { get; set; } = [];
    public RequestInfo Info { get; set; } = new();
    public string? RequestedModel { get; set; }
    public Group? Group { get; set; }
    /// <summary>The routing rule that chose the group, if one did.</summary>
    public string? Route { get; set; }
    public bool Stream { get; set; }
    public string? ConversationId { get; set; }
    public List<RequestAttempt> Attempts { get; } = [];
    /// <summary>This request's estimated cost held against its key's budget; released once it is recorded.</summary>
    public Stats.BudgetReservation? BudgetReservation { get; set; }
    /// <summary>This request's hold on its key's rate limits; released (with its tokens) once it is recorded.</summary>
    public Limits.LimitLease? LimitLease { get; set; }

    /// <summary>
    /// Gives the key's concurrency slot back (once) just before the last bytes go to the client: a client that sends
    /// its next request the moment it has read this reply must not find the slot still taken.
    /// </summary>
    public void ReleaseLimitSlot() => LimitLease?.Release(Usage.InputTokens + Usage.OutputTokens);
    /// <summary>Set for a transparent-proxy request (`/proxy/...`): its method and path; logged as protocol `proxy`.</summary>
    public string? ProxyPath { get; init; }

    // Outcome
    public int Status { get; set; }
    public string? Error { get; set; }
    public Channel? Channel { get; set; }
    public string? UpstreamModel { get; set; }
    public ApiProtocol? UpstreamProtocol { get; set; }
    public long? TtftMs { get; set; }
    public Usage Usage { get; set; }
    /// <summary>What the client received (non-stream bodies, or the start of a stream), for body capture.</summary>
    public byte[]? ResponseBody { get; set; }

    public long ElapsedMs => (long)Stopwatch.GetElapsedTime(StartedAt).TotalMilliseconds;

    public RequestLog ToLog(double cost) => new()
    {
        Id = LogId,
        Time = Time,
        ApiKeyId = ApiKey?.Id,
        ApiKeyName = ApiKey?.Name,
        ClientIp = Http.Connection.RemoteIpAddress?.ToString(),
        RequestedModel = ProxyPath is null ? RequestedModel : Truncate(ProxyPath, 255),
        GroupName = Group?.Name,
        ChannelId = Channel?.Id,
        ChannelName = Channel?.Name,
        UpstreamModel = UpstreamModel,
        Status = Status,
        Error = Error,
        LatencyMs = ElapsedMs,
        TtftMs = TtftMs,
        InputTokens = Usage.InputTokens,
        OutputTokens = Usage.OutputTokens,
        CacheReadTokens = Usage.CacheReadTokens,
        CacheWriteTokens = Usage.CacheWriteTokens,
        ReasoningTokens = Usage.ReasoningTokens,
        Cost = cost,
        Stream = Stream,
        ProtocolIn = ProxyPath is null ? OperationBodies.Wire(Protocol, Operation) : "proxy",
        ProtocolOut = UpstreamProtocol is { } up ? OperationBodies.Wire(up, Operation) : null,
        Attempts = Attempts,
    };

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
