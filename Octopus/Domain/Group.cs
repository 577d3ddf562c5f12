namespace Octopus.Domain;

/// <summary>What a client names as `model`: a set of channel+model members and how to balance over them.</summary>
internal sealed record Group
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public GroupMode Mode { get; init; } = GroupMode.RoundRobin;
    public IReadOnlyList<GroupMember> Members { get; init; } = [];
    public GroupSettings Settings { get; init; } = new();
    /// <summary>Other names that reach this group: exact, wildcard (`claude-haiku-4-5*`) or `re:&lt;regex&gt;`.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>Listed by /v1/models.</summary>
    public bool Visible { get; init; } = true;
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}

internal sealed record GroupMember
{
    public long Id { get; init; }
    public long ChannelId { get; init; }
    /// <summary>The upstream model name sent to the channel.</summary>
    public required string Model { get; init; }
    /// <summary>Lower first in failover mode.</summary>
    public int Priority { get; init; }
    public int Weight { get; init; } = 1;
    /// <summary>The member used in manual mode.</summary>
    public bool Pinned { get; init; }
}

/// <summary>Per-group relay settings; null means the default.</summary>
internal sealed record GroupSettings
{
    public int? AttemptsPerMember { get; init; }
    public int? RetryIntervalMs { get; init; }
    public int? FirstEventTimeoutSeconds { get; init; }
    public int? ResponseTimeoutSeconds { get; init; }
    /// <summary>A stream that sends nothing for this long after its first content is ended with an error event.</summary>
    public int? StreamIdleTimeoutSeconds { get; init; }
    public int? CooldownSeconds { get; init; }
    public int? AffinitySeconds { get; init; }

    public const int DefaultAttemptsPerMember = 1;
    public const int DefaultRetryIntervalMs = 0;
    public const int DefaultFirstEventTimeoutSeconds = 120;
    public const int DefaultResponseTimeoutSeconds = 600;
    public const int DefaultStreamIdleTimeoutSeconds = 300;
    public const int DefaultCooldownSeconds = 30;
    public const int DefaultAffinitySeconds = 3600;
}

internal enum GroupMode
{
    RoundRobin,
    Random,
    Failover,
    Weighted,
    Manual,
}

internal static class GroupModes
{
    public static readonly string[] All = ["round_robin", "random", "failover", "weighted", "manual"];

    public static string ToWire(this GroupMode mode) => mode switch
    {
        GroupMode.RoundRobin => "round_robin",
        GroupMode.Random => "random",
        GroupMode.Failover => "failover",
        GroupMode.Weighted => "weighted",
        GroupMode.Manual => "manual",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static bool TryParse(string? value, out GroupMode mode)
    {
        switch (value)
        {
            case "round_robin": mode = GroupMode.RoundRobin; return true;
            case "random": mode = GroupMode.Random; return true;
            case "failover": mode = GroupMode.Failover; return true;
            case "weighted": mode = GroupMode.Weighted; return true;
            case "manual": mode = GroupMode.Manual; return true;
            default: mode = default; return false;
        }
    }
}
