using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using Octopus.Tests.Protocols;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// Issue 12's replay: a five-turn Claude Code conversation (the recorded requests, growing turn by turn) through a
/// channel with three keys, ten sessions interleaved. Every turn of a session reaches the same key, and what goes
/// upstream keeps the prompt cache warm: the conversation prefix, system and tools byte-identical from turn to turn.
/// </summary>
public sealed class AgentConversationReplayTests
{
    private const int Sessions = 10;
    private const int Turns = 5;
    private static readonly string[] Keys = ["sk-key-one", "sk-key-two", "sk-key-three"];

    /// <summary>
    /// Turn t (1-5) of session s: the recorded Claude Code request cut after its t-th user turn (the fifth appends the
    /// assistant's answer and a new user message, as Claude Code does), with the session's own metadata.user_id (and Claude Code's model name).
    /// </summary>
    private static string Turn(int session, int turn)
    {
        using var doc = JsonDocument.Parse(Kit.Fixture("anthropic-claude-code2.request.json"));
        var messages = doc.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetRawText()).ToList();
        // The recorded messages end a user turn at 2, 4, 6 and 8 messages.
        var take = Math.Min(turn * 2, messages.Count);
        var kept = messages.Take(take).ToList();
        if (turn == Turns)
        {
            kept.Add("""{"role":"assistant","content":[{"type":"text","text":"Both files are updated and the tests pass."}]}""");
            kept.Add("""{"role":"user","content":[{"type":"text","text":"Thanks. Now commit with a short message."}]}""");
        }
        var sb = new StringBuilder("{");
        var first = true;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(JsonSerializer.Serialize(p.Name, RelayTestJson.Default.String)).Append(':');
            if (p.Name == "messages") sb.Append('[').Append(string.Join(',', kept)).Append(']');
            else if (p.Name == "model") sb.Append("\"claude-sonnet-4-5\"");
            else if (p.Name == "metadata") sb.Append($$"""{"user_id":"user_abc_account__session_{{session:D4}}-0000-4000-8000-000000000000"}""");
            else sb.Append(p.Value.GetRawText());
        }
        return sb.Append('}').ToString();
    }

    private static async Task<(RelayHost Host, MockUpstream Mock, HttpClient Client)> SetupAsync(ChannelType type)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("upstream");
        var channel = await host.AddChannelAsync("c", type, [mock.BaseUrl], Keys);
        await host.AddGroupAsync("claude-sonnet-4-5", GroupMode.RoundRobin, [Member(channel, "upstream-model")]);
        var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("x-api-key", await host.AddApiKeyAsync());
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return (host, mock, client);
    }

    /// <summary>Turn by turn, every session sends its next turn; returns each session's upstream requests in turn order.</summary>
    private static async Task<List<MockUpstream.Received>[]> ReplayAsync(MockUpstream mock, HttpClient client)
    {
        var seen = Enumerable.Range(0, Sessions).Select(_ => new List<MockUpstream.Received>()).ToArray();
        for (var t = 1; t <= Turns; t++)
        {
            for (var s = 0; s < Sessions; s++)
            {
                var before = mock.Count;
                using var res = await client.PostAsync("/v1/messages", new StringContent(Turn(s, t), Encoding.UTF8, "application/json"));
                Assert.True(res.StatusCode == HttpStatusCode.OK, await res.Content.ReadAsStringAsync());
                Assert.Equal(before + 1, mock.Count);
                seen[s].Add(mock.Requests.Last());
            }
        }
        return seen;
    }

    private static void AssertSameKeyPerSessionAndSpread(List<MockUpstream.Received>[] seen)
    {
        foreach (var session in seen) Assert.Single(session.Select(r => r.Key).Distinct());
        var sessionsPerKey = seen.GroupBy(s => s[0].Key).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(Keys.Length, sessionsPerKey.Count);
        Assert.All(sessionsPerKey.Values, n => Assert.True(n >= 2, string.Join(", ", sessionsPerKey)));
    }

    private static void AssertPrefix(JsonElement earlier, JsonElement later)
    {
        Assert.True(later.GetArrayLength() > earlier.GetArrayLength());
        for (var i = 0; i < earlier.GetArrayLength(); i++) Assert.Equal(earlier[i].GetRawText(), later[i].GetRawText());
    }

    [Fact]
    public async Task Anthropic_passthrough_keeps_each_session_on_one_key_and_its_prefix_byte_identical()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var seen = await ReplayAsync(mock, client);

        AssertSameKeyPerSessionAndSpread(seen);
        foreach (var session in seen)
        {
            for (var t = 1; t < Turns; t++)
            {
                var earlier = session[t - 1].Json;
                var later = session[t].Json;
                AssertPrefix(earlier.GetProperty("messages"), later.GetProperty("messages"));
                Assert.Equal(earlier.GetProperty("system").GetRawText(), later.GetProperty("system").GetRawText());
                Assert.Equal(earlier.GetProperty("tools").GetRawText(), later.GetProperty("tools").GetRawText());
            }
            // Claude Code's cache breakpoints reach the upstream untouched.
            Assert.Contains("\"cache_control\"", session[^1].BodyText);
        }
    }

    [Fact]
    public async Task Anthropic_to_OpenAI_conversion_keeps_each_session_on_one_key_with_a_stable_prefix_and_cache_key()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.OpenAI);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var seen = await ReplayAsync(mock, client);

        AssertSameKeyPerSessionAndSpread(seen);
        var cacheKeys = new HashSet<string>();
        foreach (var session in seen)
        {
            var cacheKey = session[0].Json.GetProperty("prompt_cache_key").GetString();
            Assert.False(string.IsNullOrEmpty(cacheKey));
            cacheKeys.Add(cacheKey!);
            for (var t = 1; t < Turns; t++)
            {
                var earlier = session[t - 1].Json;
                var later = session[t].Json;
                // The system prompt is the first message: it is part of the byte-identical prefix.
                Assert.Equal("system", earlier.GetProperty("messages")[0].GetProperty("role").GetString());
                AssertPrefix(earlier.GetProperty("messages"), later.GetProperty("messages"));
                Assert.Equal(earlier.GetProperty("messages")[0].GetRawText(), later.GetProperty("messages")[0].GetRawText());
                Assert.Equal(earlier.GetProperty("tools").GetRawText(), later.GetProperty("tools").GetRawText());
                Assert.Equal(cacheKey, later.GetProperty("prompt_cache_key").GetString());
            }
        }
        // One cache key per conversation, never one per request.
        Assert.Equal(Sessions, cacheKeys.Count);
    }
}
