using System.Net;
using System.Text;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// Alias precedence and routing rules through the relay with real requests (issue 12): every group's member names a
/// different upstream model, so the model the mock receives says which group served the request.
/// </summary>
public sealed class RoutingRuleTests
{
    private sealed class Rig : IAsyncDisposable
    {
        public required RelayHost Host { get; init; }
        public required MockUpstream Mock { get; init; }
        public required Channel Channel { get; init; }
        public required HttpClient Client { get; init; }
        public Dictionary<string, Group> Groups { get; } = [];

        public async Task<Group> GroupAsync(string name, params string[] aliases)
        {
            var g = await Host.AddGroupAsync(name, GroupMode.Failover, [Member(Channel, "up-" + name)], RelayBalancingTests.NoAffinity, aliases);
            Groups[name] = g;
            return g;
        }

        public async Task<RoutingRule> RouteAsync(string name, string group, RouteMatch match, int priority = 0)
        {
            var rule = await Host.Get<RoutingRuleStore>().CreateAsync(new RoutingRule { Name = name, Priority = priority, Match = match, GroupId = Groups[group].Id }, default);
            await Host.Get<ConfigChangeSignal>().NotifyChanged();
            return rule;
        }

        /// <summary>Sends the request and returns the group that served it (from the upstream model), or the failure status.</summary>
        public async Task<string> ServedByAsync(string path, string body, Dictionary<string, string>? headers = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("anthropic-version", "2023-06-01");
            foreach (var (k, v) in headers ?? []) request.Headers.TryAddWithoutValidation(k, v);
            var before = Mock.Count;
            using var res = await Client.SendAsync(request);
            var text = await res.Content.ReadAsStringAsync();
            if (res.StatusCode != HttpStatusCode.OK) return $"{(int)res.StatusCode}: {text}";
            Assert.Equal(before + 1, Mock.Count);
            return Mock.Requests.Last().Model!["up-".Length..];
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Mock.DisposeAsync();
            await Host.DisposeAsync();
        }
    }

    private static async Task<Rig> RigAsync(Func<ApiKey, ApiKey>? key = null)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("m");
        var channel = await host.AddChannelAsync("c", ChannelType.OpenAI, [mock.BaseUrl]);
        return new Rig { Host = host, Mock = mock, Channel = channel, Client = host.ClientFor(await host.AddApiKeyAsync(tweak: key)) };
    }

    private static string Chat(string model, string text = "hi", string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{text}}"}]{{extra}}}""";

    private static string Messages(string model, string content = "\"hi\"", string extra = "") =>
        $$"""{"model":"{{model}}","max_tokens":2048,"messages":[{"role":"user","content":{{content}}}]{{extra}}}""";

    private const string Tools = ""","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
    private const string TinyPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    // ---------- aliases ----------

    [Fact]
    public async Task Alias_precedence_exact_group_then_exact_alias_then_longest_wildcard_then_regex()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("claude-haiku-4-5");
        await rig.GroupAsync("exact-alias", "claude-haiku-4-5", "claude-x");
        await rig.GroupAsync("long-wild", "claude-haiku-*");
        await rig.GroupAsync("short-wild", "claude-*");
        // Longer than either wildcard: it still ranks after them.
        await rig.GroupAsync("regex", "re:^claude-[a-z]+", "re:-latest$");

        Assert.Equal("claude-haiku-4-5", await rig.ServedByAsync("/v1/chat/completions", Chat("claude-haiku-4-5")));
        Assert.Equal("exact-alias", await rig.ServedByAsync("/v1/chat/completions", Chat("claude-x")));
        Assert.Equal("long-wild", await rig.ServedByAsync("/v1/chat/completions", Chat("claude-haiku-4-5-20251001")));
        Assert.Equal("short-wild", await rig.ServedByAsync("/v1/chat/completions", Chat("claude-opus-4-1")));
        Assert.Equal("regex", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o-latest")));
        Assert.StartsWith("404", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o")));
    }

    [Fact]
    public async Task Of_two_matching_regex_aliases_the_longer_wins()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("broad", "re:gpt");
        await rig.GroupAsync("narrow", "re:^gpt-4o-mini");
        Assert.Equal("narrow", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o-mini-2024")));
        Assert.Equal("broad", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-5")));
    }

    // ---------- one condition at a time ----------

    [Fact]
    public async Task Model_rule_sends_matching_names_to_its_group_even_names_no_group_has()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("claude-sonnet-4-5");
        await rig.GroupAsync("cheap");
        await rig.RouteAsync("haiku to cheap", "cheap", new RouteMatch { Model = "claude-haiku-*" });

        Assert.Equal("cheap", await rig.ServedByAsync("/v1/messages", Messages("claude-haiku-4-5-20251001")));
        Assert.Equal("claude-sonnet-4-5", await rig.ServedByAsync("/v1/messages", Messages("claude-sonnet-4-5")));
        Assert.StartsWith("404", await rig.ServedByAsync("/v1/messages", Messages("claude-opus-4-1")));
    }

    [Fact]
    public async Task Model_rule_takes_a_regex_and_beats_an_exact_group_name()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("gpt-4o");
        await rig.GroupAsync("other");
        await rig.RouteAsync("all gpt-4o", "other", new RouteMatch { Model = "re:^gpt-4o(-mini)?$" });

        Assert.Equal("other", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o")));
        Assert.Equal("other", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o-mini")));
        Assert.StartsWith("404", await rig.ServedByAsync("/v1/chat/completions", Chat("gpt-4o-mini-2")));
    }

    [Fact]
    public async Task Protocol_rule_matches_only_its_client_protocol()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("for-anthropic");
        await rig.GroupAsync("for-responses");
        await rig.GroupAsync("for-gemini");
        await rig.RouteAsync("anthropic", "for-anthropic", new RouteMatch { Protocol = "anthropic" });
        await rig.RouteAsync("responses", "for-responses", new RouteMatch { Protocol = "openai_responses" });
        await rig.RouteAsync("gemini", "for-gemini", new RouteMatch { Protocol = "gemini" });

        Assert.Equal("for-anthropic", await rig.ServedByAsync("/v1/messages", Messages("m")));
        Assert.Equal("for-responses", await rig.ServedByAsync("/v1/responses", """{"model":"m","input":"hi"}"""));
        Assert.Equal("for-gemini", await rig.ServedByAsync("/v1beta/models/m:generateContent", """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"""));
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
    }

    [Fact]
    public async Task Min_input_tokens_rule_sends_long_contexts_to_its_group()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("long-context");
        await rig.RouteAsync("long", "long-context", new RouteMatch { MinInputTokens = 1000 });

        // The count_tokens estimate: ~4 characters a token.
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m", "\"" + new string('a', 3000) + "\"")));
        Assert.Equal("long-context", await rig.ServedByAsync("/v1/messages", Messages("m", "\"" + new string('a', 5000) + "\"")));
        Assert.Equal("long-context", await rig.ServedByAsync("/v1/chat/completions", Chat("m", new string('b', 5000))));
        // A short request with an image or a document: the estimate counts them as count_tokens does (1600 / 3000).
        var image = $$$"""[{"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}}]""";
        Assert.Equal("long-context", await rig.ServedByAsync("/v1/messages", Messages("m", image)));
        var pdf = """[{"type":"document","source":{"type":"url","url":"https://example.com/paper.pdf"}}]""";
        Assert.Equal("long-context", await rig.ServedByAsync("/v1/messages", Messages("m", pdf)));
    }

    [Theory]
    [InlineData("claude-haiku-*", "claude-haiku-4-5")]
    [InlineData("claude-haiku-*", "claude-haiku-")]
    [InlineData("claude-haiku-*", "claude-haiku")]
    [InlineData("claude-*-4-?", "claude-opus-4-1")]
    [InlineData("claude-*-4-?", "claude-opus-4-10")]
    [InlineData("*-latest", "gpt-4o-latest")]
    [InlineData("*a*b*c*", "xxaxxbxcxbc")]
    [InlineData("*a*b*c", "abcb")]
    [InlineData("a?c", "abc")]
    [InlineData("a?c", "ac")]
    [InlineData("*", "")]
    [InlineData("**x", "yyx")]
    [InlineData("x.y*", "xzy")]
    public void Wildcards_match_without_a_regex_exactly_as_the_alias_regex_does(string pattern, string value) =>
        Assert.Equal(Octopus.Relay.Routing.AliasPattern.WildcardRegex(pattern).IsMatch(value), Octopus.Relay.Routing.ValuePattern.Glob(pattern, value));

    [Fact]
    public async Task Has_images_rule_sends_requests_with_images_to_its_group()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("vision");
        await rig.RouteAsync("images", "vision", new RouteMatch { HasImages = true });

        var image = $$$"""[{"type":"text","text":"what is this?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{TinyPng}}}"}}]""";
        Assert.Equal("vision", await rig.ServedByAsync("/v1/messages", Messages("m", image)));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m", """[{"type":"text","text":"no image here"}]""")));
        var chatImage = $$$"""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{TinyPng}}}"}}]}]}""";
        Assert.Equal("vision", await rig.ServedByAsync("/v1/chat/completions", chatImage));
    }

    [Fact]
    public async Task Has_tools_rule_sends_requests_with_tools_to_its_group()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("agentic");
        await rig.RouteAsync("tools", "agentic", new RouteMatch { HasTools = true });

        Assert.Equal("agentic", await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: Tools)));
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: ""","tools":[]""")));
    }

    [Fact]
    public async Task Has_tools_false_rule_matches_only_requests_without_tools()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("plain");
        await rig.RouteAsync("no tools", "plain", new RouteMatch { HasTools = false });

        Assert.Equal("plain", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: Tools)));
    }

    [Fact]
    public async Task Thinking_rule_sends_reasoning_requests_to_its_group()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("reasoning");
        await rig.RouteAsync("thinking", "reasoning", new RouteMatch { Thinking = true });

        Assert.Equal("reasoning", await rig.ServedByAsync("/v1/messages", Messages("m", extra: ""","thinking":{"type":"enabled","budget_tokens":1024}""")));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m", extra: ""","thinking":{"type":"disabled"}""")));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m")));
        Assert.Equal("reasoning", await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: ""","reasoning_effort":"high" """)));
    }

    [Fact]
    public async Task Header_rule_matches_header_values_by_pattern_and_names_case_insensitively()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("team");
        await rig.RouteAsync("team header", "team", new RouteMatch { Header = new() { ["X-Team"] = "re:^(research|ml)$", ["User-Agent"] = "claude-cli/*" } });

        Assert.Equal("team", await rig.ServedByAsync("/v1/messages", Messages("m"), new() { ["x-team"] = "ml", ["User-Agent"] = "claude-cli/2.0.14 (external, cli)" }));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m"), new() { ["X-Team"] = "sales", ["User-Agent"] = "claude-cli/2.0.14" }));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m"), new() { ["User-Agent"] = "claude-cli/2.0.14" }));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m"), new() { ["X-Team"] = "ml", ["User-Agent"] = "curl/8" }));
    }

    // ---------- combining and ordering ----------

    [Fact]
    public async Task Conditions_combine_with_and()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("haiku-agent");
        await rig.RouteAsync("haiku with tools over anthropic", "haiku-agent",
            new RouteMatch { Model = "claude-haiku-*", HasTools = true, Protocol = "anthropic" });
        await rig.GroupAsync("claude-haiku-4-5");

        const string anthropicTools = ""","tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{}}}]""";
        Assert.Equal("haiku-agent", await rig.ServedByAsync("/v1/messages", Messages("claude-haiku-4-5", extra: anthropicTools)));
        Assert.Equal("claude-haiku-4-5", await rig.ServedByAsync("/v1/messages", Messages("claude-haiku-4-5")));
        Assert.Equal("claude-haiku-4-5", await rig.ServedByAsync("/v1/chat/completions", Chat("claude-haiku-4-5", extra: Tools)));
        Assert.Equal("m", await rig.ServedByAsync("/v1/messages", Messages("m", extra: anthropicTools)));
    }

    [Fact]
    public async Task First_match_wins_by_priority_then_id()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("a");
        await rig.GroupAsync("b");
        await rig.GroupAsync("c");
        // Created first but ranked last by its priority.
        await rig.RouteAsync("catch-all", "a", new RouteMatch(), priority: 10);
        await rig.RouteAsync("tools first", "b", new RouteMatch { HasTools = true }, priority: 1);
        // Same priority as "tools first" but a later id: never reached for requests with tools.
        await rig.RouteAsync("tools too", "c", new RouteMatch { HasTools = true }, priority: 1);

        Assert.Equal("b", await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: Tools)));
        Assert.Equal("a", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
        Assert.Equal("a", await rig.ServedByAsync("/v1/chat/completions", Chat("no-such-group")));
    }

    [Fact]
    public async Task The_client_keys_allowed_groups_apply_to_the_routed_group()
    {
        await using var rig = await RigAsync(k => k with { AllowedGroups = ["m"] });
        await rig.GroupAsync("m");
        await rig.GroupAsync("secret");
        await rig.RouteAsync("tools to secret", "secret", new RouteMatch { HasTools = true });

        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
        var refused = await rig.ServedByAsync("/v1/chat/completions", Chat("m", extra: Tools));
        Assert.StartsWith("403", refused);
        Assert.Contains("secret", refused);
    }

    [Fact]
    public async Task Rule_changes_are_live_without_restart_and_deleting_a_group_drops_its_rules()
    {
        await using var rig = await RigAsync();
        await rig.GroupAsync("m");
        await rig.GroupAsync("x");
        await rig.GroupAsync("y");
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));

        var rule = await rig.RouteAsync("r", "x", new RouteMatch { Model = "m" });
        Assert.Equal("x", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));

        await rig.Host.Get<RoutingRuleStore>().UpdateAsync(rule with { GroupId = rig.Groups["y"].Id }, default);
        await rig.Host.Get<ConfigChangeSignal>().NotifyChanged();
        Assert.Equal("y", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));

        await rig.Host.Get<GroupStore>().DeleteAsync(rig.Groups["y"].Id, default);
        await rig.Host.Get<ConfigChangeSignal>().NotifyChanged();
        Assert.Empty(await rig.Host.Get<RoutingRuleStore>().ListAsync(default));
        Assert.Equal("m", await rig.ServedByAsync("/v1/chat/completions", Chat("m")));
    }

    [Fact]
    public async Task Count_tokens_follows_routing_rules()
    {
        await using var rig = await RigAsync();
        var anthropic = await MockUpstream.StartAsync("anthropic");
        await using var _ = anthropic;
        var channel = await rig.Host.AddChannelAsync("anthropic", ChannelType.Anthropic, [anthropic.BaseUrl]);
        await rig.Host.AddGroupAsync("cheap", GroupMode.Failover, [Member(channel, "claude-haiku-upstream")]);
        var cheap = await rig.Host.Get<GroupStore>().ListAsync(default);
        await rig.Host.Get<RoutingRuleStore>().CreateAsync(new RoutingRule { Name = "haiku", Match = new RouteMatch { Model = "claude-haiku-*" }, GroupId = cheap.Single(g => g.Name == "cheap").Id }, default);
        await rig.Host.Get<ConfigChangeSignal>().NotifyChanged();

        using var res = await rig.Client.PostAsync("/v1/messages/count_tokens", new StringContent(Messages("claude-haiku-4-5"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("claude-haiku-upstream", anthropic.Requests.Single().Model);
    }
}
