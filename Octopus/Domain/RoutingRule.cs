namespace Octopus.Domain;

/// <summary>
/// A routing rule: when a request meets every condition of <see cref="Match"/>, it goes to the rule's group whatever
/// model it named. Rules are tried by priority (lower first), then id; the first match wins.
/// </summary>
internal sealed record RoutingRule
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public int Priority { get; init; }
    public RouteMatch Match { get; init; } = new();
    public long GroupId { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}

/// <summary>Conditions of a rule, all optional and combined with AND; null means "any".</summary>
internal sealed record RouteMatch
{
    /// <summary>The model the client named: exact, wildcard (`claude-haiku-*`) or `re:&lt;regex&gt;`, as aliases.</summary>
    public string? Model { get; init; }
    /// <summary>The client's protocol: openai_chat, openai_responses, anthropic or gemini.</summary>
    public string? Protocol { get; init; }
    /// <summary>At least this many input tokens, estimated as count_tokens estimates them.</summary>
    public long? MinInputTokens { get; init; }
    public bool? HasImages { get; init; }
    public bool? HasTools { get; init; }
    public bool? Thinking { get; init; }
    /// <summary>Request header name → pattern (exact, wildcard or `re:`); a missing header does not match.</summary>
    public Dictionary<string, string>? Header { get; init; }
}
