using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Octopus.Domain;
using Group = Octopus.Domain.Group;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;

namespace Octopus.Relay.Routing;

/// <summary>
/// Routing rules compiled for the hot path: patterns are built once per snapshot, and every condition reads what the
/// relay's one scan of the body already found (the token estimate included), so a rule never decodes the body.
/// </summary>
internal sealed class RouteTable
{
    public static readonly RouteTable Empty = new([], []);

    private readonly CompiledRoute[] _routes;

    public RouteTable(IEnumerable<RoutingRule> rules, IEnumerable<Group> groups)
    {
        var byId = groups.ToDictionary(g => g.Id);
        _routes = [.. rules
            .OrderBy(r => r.Priority).ThenBy(r => r.Id)
            .Where(r => byId.ContainsKey(r.GroupId))
            .Select(r => new CompiledRoute(r, byId[r.GroupId]))];
    }

    public int Count => _routes.Length;

    /// <summary>The first rule the request meets, or null.</summary>
    public CompiledRoute? Match(in RouteInput input)
    {
        foreach (var route in _routes)
            if (route.IsMatch(input)) return route;
        return null;
    }
}

/// <summary>What rules look at in one request.</summary>
internal readonly record struct RouteInput(string Model, ApiProtocol Protocol, RequestInfo Info, IHeaderDictionary Headers);

internal sealed class CompiledRoute
{
    public RoutingRule Rule { get; }
    public Group Group { get; }
    private readonly ApiProtocol? _protocol;
    private readonly ValuePattern? _model;
    private readonly (string Name, ValuePattern Pattern)[] _headers;

    public CompiledRoute(RoutingRule rule, Group group)
    {
        Rule = rule;
        Group = group;
        var m = rule.Match;
        if (m.Protocol is not null)
            // An unknown protocol (only from a hand-edited database) matches nothing rather than everything.
            _protocol = ApiProtocols.TryParse(m.Protocol, out var p) ? p : (ApiProtocol)(-1);
        _model = m.Model is null ? null : ValuePattern.Create(m.Model);
        _headers = m.Header is null ? [] : [.. m.Header.Select(h => (h.Key, ValuePattern.Create(h.Value)))];
    }

    public bool IsMatch(in RouteInput input)
    {
        var m = Rule.Match;
        var info = input.Info;
        if (_protocol is { } p && p != input.Protocol) return false;
        if (m.HasTools is { } tools && tools != info.HasTools) return false;
        if (m.HasImages is { } images && images != info.HasImages) return false;
        if (m.Thinking is { } thinking && thinking != info.Thinking) return false;
        if (_model is not null && !_model.IsMatch(input.Model)) return false;
        foreach (var (name, pattern) in _headers)
        {
            if (!input.Headers.TryGetValue(name, out var values) || !AnyMatch(values, pattern)) return false;
        }
        if (m.MinInputTokens is { } min && info.EstimatedInputTokens < min) return false;
        return true;
    }

    private static bool AnyMatch(StringValues values, ValuePattern pattern)
    {
        foreach (var v in values)
            if (v is not null && pattern.IsMatch(v)) return true;
        return false;
    }
}

/// <summary>A model name or header value pattern: exact, wildcard (`*`, `?`) or `re:&lt;regex&gt;`, as group aliases.</summary>
internal sealed class ValuePattern
{
    private readonly string _exact;
    private readonly Regex? _regex;
    private readonly bool _wildcard;

    private ValuePattern(string exact, Regex? regex, bool wildcard = false)
    {
        _exact = exact;
        _regex = regex;
        _wildcard = wildcard;
    }

    /// <summary>A pattern whose regex does not compile (checked by the admin API) matches nothing.</summary>
    public static ValuePattern Create(string pattern)
    {
        if (pattern.StartsWith("re:", StringComparison.Ordinal))
            return new ValuePattern(pattern, AliasPattern.Compile(pattern[3..]) ?? AliasPattern.Compile("(?!)"));
        return new ValuePattern(pattern, null, AliasPattern.IsWildcard(pattern));
    }

    public bool IsMatch(string value)
    {
        if (_regex is null) return _wildcard ? Glob(_exact, value) : string.Equals(value, _exact, StringComparison.Ordinal);
        try { return _regex.IsMatch(value); }
        catch (RegexMatchTimeoutException) { return false; }
    }

    /// <summary>
    /// `*` any run, `?` one character, the rest literal, whole value (what the alias regex means, without a regex):
    /// on a mismatch, the last `*` takes one more character.
    /// </summary>
    internal static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> value)
    {
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = v; }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == value[v])) { p++; v++; }
            else if (star >= 0) { p = star + 1; v = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
