namespace Octopus.Domain;

/// <summary>
/// Request rate limits for a client key, key-wide or for its requests to one group. null = no limit. Enforced in
/// memory per process (Relay/Limits).
/// </summary>
internal sealed record RateLimits
{
    /// <summary>Requests admitted in any sliding 60 s window.</summary>
    public int? Rpm { get; set; }
    /// <summary>Tokens (input + output) of requests finished in any sliding 60 s window.</summary>
    public int? Tpm { get; set; }
    /// <summary>Requests in flight at once.</summary>
    public int? MaxConcurrency { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => Rpm is null && Tpm is null && MaxConcurrency is null;
}
