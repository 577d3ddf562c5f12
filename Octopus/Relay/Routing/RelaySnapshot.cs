using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Group = Octopus.Domain.Group;
using Octopus.Domain;

namespace Octopus.Relay.Routing;

/// <summary>
/// The relay's immutable view of the configuration. Built off the hot path on every config change and swapped
/// atomically; requests never read the database.
/// </summary>
internal sealed class RelaySnapshot
{
    public static readonly RelaySnapshot Empty = new([], [], []);

    public FrozenDictionary<long, Channel> Channels { get; }
    public FrozenDictionary<string, Group> Groups { get; }
    public FrozenDictionary<string, ApiKey> ApiKeysByHash { get; }
    public IReadOnlyList<Group> GroupList { get; }
    private readonly FrozenDictionary<long, Channel[]> _views;
    private readonly FrozenDictionary<string, Group> _exactAliases;
    private readonly AliasPattern[] _patterns;
    /// <summary>Routing rules in evaluation order, compiled against this snapshot's groups.</summary>
    public RouteTable Routes { get; }

    public RelaySnapshot(IEnumerable<Channel> channels, IEnumerable<Group> groups, IEnumerable<ApiKey> apiKeys, IEnumerable<RoutingRule>? routes = null)
    {
        Channels = channels.ToFrozenDictionary(c => c.Id);
        _views = Channels.Values.ToFrozenDictionary(c => c.Id, EndpointRouting.Views);
        GroupList = groups.OrderBy(g => g.Name, StringComparer.Ordinal).ToArray();
        Groups = GroupList.ToFrozenDictionary(g => g.Name, StringComparer.Ordinal);
        ApiKeysByHash = apiKeys.ToFrozenDictionary(k => k.KeyHash, StringComparer.Ordinal);

        var exact = new Dictionary<string, Group>(StringComparer.Ordinal);
        var patterns = new List<AliasPattern>();
        foreach (var g in GroupList)
        {
            foreach (var alias in g.Aliases)
            {
                if (AliasPattern.TryCreate(alias, g) is { } p) patterns.Add(p);
                else exact.TryAdd(alias, g);
            }
        }
        _exactAliases = exact.ToFrozenDictionary(StringComparer.Ordinal);
        // Wildcards before regular expressions, each longest first: the most specific alias wins.
        _patterns = [.. patterns.OrderBy(p => p.IsRegex).ThenByDescending(p => p.Specificity)];
        Routes = routes is null ? RouteTable.Empty : new RouteTable(routes, GroupList);
    }

    /// <summary>Exact group name, then exact alias, then the longest matching wildcard, then the longest matching regex alias.</summary>
    public Group? ResolveGroup(string model)
    {
        if (Groups.TryGetValue(model, out var g)) return g;
        if (_exactAliases.TryGetValue(model, out g)) return g;
        foreach (var p in _patterns)
            if (p.IsMatch(model)) return p.Group;
        return null;
    }

    /// <summary>The endpoint of <paramref name="channel"/> that serves this request (see <see cref="EndpointRouting.Pick"/>).</summary>
    public Channel? Route(Channel channel, Protocols.ApiProtocol client, RelayOperation op = RelayOperation.Generate) =>
        EndpointRouting.Pick(_views.TryGetValue(channel.Id, out var views) ? views : [channel], client, op);

    /// <summary>Exact aliases, for /v1/models listing.</summary>
    public IEnumerable<(string Alias, Group Group)> ExactAliases => _exactAliases.Select(kv => (kv.Key, kv.Value));
}

/// <summary>`claude-haiku-4-5*` (wildcards `*` and `?`) or `re:&lt;regex&gt;`.</summary>
internal sealed class AliasPattern
{
    private readonly Regex _regex;
    public Group Group { get; }
    public int Specificity { get; }
    public bool IsRegex { get; }

    private AliasPattern(Regex regex, Group group, int specificity, bool isRegex)
    {
        _regex = regex;
        Group = group;
        Specificity = specificity;
        IsRegex = isRegex;
    }

    public bool IsMatch(string model)
    {
        try { return _regex.IsMatch(model); }
        catch (RegexMatchTimeoutException) { return false; }
    }

    public static AliasPattern? TryCreate(string alias, Group group)
    {
        if (alias.StartsWith("re:", StringComparison.Ordinal))
        {
            var regex = Compile(alias[3..]);
            return regex is null ? null : new AliasPattern(regex, group, alias.Length - 3, isRegex: true);
        }
        if (!IsWildcard(alias)) return null;
        // Literal characters decide specificity: `claude-haiku-4-5*` beats `claude-*`.
        return new AliasPattern(WildcardRegex(alias), group, alias.Count(c => c is not '*' and not '?'), isRegex: false);
    }

    public static bool IsWildcard(string pattern) => pattern.IndexOfAny(['*', '?']) >= 0;

    /// <summary>`*` is any run of characters, `?` one character, everything else literal; the whole value must match.</summary>
    public static Regex WildcardRegex(string pattern) =>
        Compile("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$")!;

    public static Regex? Compile(string pattern)
    {
        try { return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)); }
        catch (ArgumentException) { return null; }
    }
}
