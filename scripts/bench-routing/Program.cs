using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;
using Octopus.Relay.Routing;

// Cost per request of routing-rule evaluation on the relay snapshot, with 20 rules (issue 12: a few microseconds).
// The request is a recorded Claude Code turn (72 KB, 15 tools); the relay has already scanned its body (the token
// estimate included), so each evaluation is what RelayHandler adds: a RouteInput and RouteTable.Match. The scan
// itself, which every request pays rules or not, is timed last. Prints the median of several rounds.

// Many short rounds: on a busy machine a long round is likely to be preempted, and the median of short ones is not.
var rounds = args.Length > 0 ? int.Parse(args[0]) : 201;
var perRound = args.Length > 1 ? int.Parse(args[1]) : 1_000;

var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "anthropic-claude-code2.request.json"));
var info = RequestInspector.Inspect(ApiProtocol.Anthropic, body);
var headers = new HeaderDictionary
{
    ["User-Agent"] = "claude-cli/2.0.14 (external, cli)",
    ["X-Claude-Code-Session-Id"] = "94405443-cd73-414e-9570-ae7d38175e7e",
    ["anthropic-version"] = "2023-06-01",
    ["anthropic-beta"] = "claude-code-20250219,interleaved-thinking-2025-05-14",
    ["x-stainless-lang"] = "js",
};
const string model = "claude-sonnet-4-5-20250929";

var groups = Enumerable.Range(1, 20).Select(i => new Group { Id = i, Name = $"group-{i}" }).ToList();
RouteMatch[] nineteen =
[
    new() { Model = "claude-haiku-*" },
    new() { Model = "claude-3-5-haiku*", HasTools = false },
    new() { Model = "re:^gpt-4o(-mini)?(-\\d{4}-\\d{2}-\\d{2})?$" },
    new() { Model = "re:^o[134](-mini|-pro)?$", Protocol = "openai_responses" },
    new() { Protocol = "gemini" },
    new() { Protocol = "openai_chat", HasImages = true },
    new() { Model = "gemini-*-flash*" },
    new() { Header = new() { ["X-Team"] = "re:^(research|ml)$" } },
    new() { Header = new() { ["User-Agent"] = "codex_cli_rs/*" } },
    new() { Model = "deepseek-*", Thinking = true },
    new() { Model = "claude-opus-*", HasImages = true },
    new() { Model = "re:.*-preview$" },
    new() { Model = "claude-sonnet-4-5*", Header = new() { ["X-Priority"] = "low" } },
    new() { Model = "qwen*" },
    new() { Model = "re:^(kimi|moonshot)-", HasTools = true },
    new() { Protocol = "openai_chat", Thinking = true },
    new() { Model = "claude-sonnet-4-5*", MinInputTokens = 1_000_000, Header = new() { ["X-Long"] = "1" } },
    new() { Header = new() { ["User-Agent"] = "re:^opencode/" } },
    new() { Model = "glm-*" },
];

RouteTable Table(RouteMatch last) => new(
    nineteen.Append(last).Select((m, i) => new RoutingRule { Id = i + 1, Name = $"rule-{i + 1}", Priority = i, Match = m, GroupId = groups[i].Id }),
    groups);

void Run(string label, RouteTable table, int n)
{
    var expected = table.Match(new RouteInput(model, ApiProtocol.Anthropic, info, headers))?.Rule.Name ?? "none";
    Time(label, () => table.Match(new RouteInput(model, ApiProtocol.Anthropic, info, headers)), n, $"matched: {expected}");
}

void Time(string label, Action action, int n, string note)
{
    // Warm up past tiered compilation (tier 0, instrumented, tier 1) before timing.
    var warm = Stopwatch.StartNew();
    while (warm.ElapsedMilliseconds < 1500) action();
    var samples = new double[rounds];
    for (var r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) action();
        samples[r] = sw.Elapsed.TotalNanoseconds / n;
    }
    Array.Sort(samples);
    Console.WriteLine($"{label,-62} median {samples[rounds / 2],9:F0} ns   (min {samples[0]:F0}, max {samples[^1]:F0}; {note})");
}

Console.WriteLine($"Routing rules: 20 rules, Claude Code request of {body.Length / 1024} KB, {rounds} rounds");
Run("20 rules, none matches (every rule checked)", Table(new RouteMatch { Model = "never-*" }), perRound);
Run("20 rules, the last matches on model + thinking + header", Table(new RouteMatch { Model = "claude-sonnet-*", Thinking = false, Header = new() { ["User-Agent"] = "claude-cli/*" } }), perRound);
Run("20 rules, the last is min_input_tokens 100k (not reached)", Table(new RouteMatch { MinInputTokens = 100_000 }), perRound);
Run("20 rules, the last is min_input_tokens 10k (reached)", Table(new RouteMatch { MinInputTokens = 10_000 }), perRound);
// Every relayed request pays for this scan, rules or not; the token estimate is made during it.
Time("the relay's scan of the body (every request, rules or not)", () => RequestInspector.Inspect(ApiProtocol.Anthropic, body), Math.Max(1, perRound / 100),
    $"estimate {info.EstimatedInputTokens} tokens");
