namespace Octopus.Domain;

/// <summary>A client's key to the relay. Only the SHA-256 of the secret is stored.</summary>
internal sealed record ApiKey
{
    public long Id { get; init; }
    public required string Name { get; init; }
    /// <summary>Lower-case hex SHA-256 of the full `sk-...` secret.</summary>
    public required string KeyHash { get; init; }
    /// <summary>What can be shown of the secret, e.g. `sk-oc-ab…yz`.</summary>
    public required string KeyHint { get; init; }
    public bool Enabled { get; init; } = true;
    /// <summary>Unix milliseconds; null = never.</summary>
    public long? ExpiresAt { get; init; }
    /// <summary>Group names this key may use; empty = all.</summary>
    public IReadOnlyList<string> AllowedGroups { get; init; } = [];
    /// <summary>Cost budget in USD per <see cref="BudgetPeriod"/>; null = unlimited.</summary>
    public double? Budget { get; init; }
    /// <summary>total | daily | weekly | monthly</summary>
    public string BudgetPeriod { get; init; } = "total";
    public int? RequestsPerMinute { get; init; }
    public int? TokensPerMinute { get; init; }
    public int? MaxConcurrency { get; init; }
    /// <summary>Limits on this key's requests to one group (by group name), on top of the key-wide ones.</summary>
    public IReadOnlyDictionary<string, RateLimits> GroupLimits { get; init; } = EmptyGroupLimits;

    public static readonly IReadOnlyDictionary<string, RateLimits> EmptyGroupLimits = new Dictionary<string, RateLimits>();
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}
