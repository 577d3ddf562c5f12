using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Passthrough;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>POST /v1/messages/count_tokens: the Anthropic channel counts, anything else gets the gateway's estimate.</summary>
public sealed class CountTokensTests
{
    private const string Body = """
        {"model":"claude-group","system":"You are terse.","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}
        """;

    private static long Estimate(string body) => RequestInspector.Inspect(ApiProtocol.Anthropic, Encoding.UTF8.GetBytes(body)).EstimatedInputTokens;

    private static async Task<(RelayHost Host, MockUpstream Mock, HttpClient Client)> SetupAsync(ChannelType type)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("counter");
        var channel = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync("claude-group", GroupMode.Failover, [Member(channel)], aliases: ["claude-sonnet-*"]);
        var client = AnthropicClient(host, await host.AddApiKeyAsync());
        return (host, mock, client);
    }

    private static HttpClient AnthropicClient(RelayHost host, string key)
    {
        var c = new HttpClient { BaseAddress = new Uri(host.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        c.DefaultRequestHeaders.Add("x-api-key", key);
        c.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        c.DefaultRequestHeaders.Add("anthropic-beta", "token-counting-2024-11-01");
        return c;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(HttpClient client, string body)
    {
        using var res = await client.PostAsync("/v1/messages/count_tokens", Json(body));
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Anthropic_channel_counts_with_its_own_key_and_model()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var (status, json) = await PostAsync(client, Body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Wire.CountedTokens, json.GetProperty("input_tokens").GetInt32());
        var sent = mock.Requests.Single();
        Assert.Equal("/messages/count_tokens", sent.Path);
        Assert.Equal("sk-upstream-c", sent.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", sent.Headers["anthropic-version"]);
        Assert.Equal("token-counting-2024-11-01", sent.Headers["anthropic-beta"]);
        // Only the model changed; everything else went through as the client wrote it.
        Assert.Equal(Body.Trim().Replace("\"claude-group\"", "\"upstream-model\""), sent.BodyText);
    }

    [Fact]
    public async Task Aliases_reach_the_group_as_on_the_relay()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var (status, json) = await PostAsync(client, Body.Replace("claude-group", "claude-sonnet-4-5-20250929"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Wire.CountedTokens, json.GetProperty("input_tokens").GetInt32());
        Assert.Equal("upstream-model", mock.Requests.Single().Model);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(404)]
    [InlineData(401)]
    public async Task Anthropic_upstream_failure_answers_the_estimate(int upstreamStatus)
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;
        mock.Behave = _ => new MockUpstream.Reply { Status = upstreamStatus, Body = Wire.AnthropicError("not here", "not_found_error") };

        var (status, json) = await PostAsync(client, Body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Estimate(Body), json.GetProperty("input_tokens").GetInt64());
        Assert.True(json.GetProperty("input_tokens").GetInt64() > 10);
        Assert.Equal(1, mock.Count);
    }

    [Fact]
    public async Task Anthropic_upstream_answer_without_a_count_answers_the_estimate()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;
        mock.Behave = _ => new MockUpstream.Reply { Body = "<html>proxy says hi</html>" };

        var (status, json) = await PostAsync(client, Body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Estimate(Body), json.GetProperty("input_tokens").GetInt64());
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("openai_responses")]
    [InlineData("gemini")]
    [InlineData("volcengine")]
    public async Task Other_channel_types_answer_the_estimate_without_calling_upstream(string channelType)
    {
        Assert.True(ChannelTypes.TryParse(channelType, out var type));
        var (host, mock, client) = await SetupAsync(type);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var (status, json) = await PostAsync(client, Body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Estimate(Body), json.GetProperty("input_tokens").GetInt64());
        Assert.Equal(0, mock.Count);
    }

    [Fact]
    public async Task Only_the_first_usable_member_decides()
    {
        await using var host = await StartAsync();
        await using var openai = await MockUpstream.StartAsync("openai");
        await using var anthropic = await MockUpstream.StartAsync("anthropic");
        var o = await host.AddChannelAsync("o", ChannelType.OpenAI, [openai.BaseUrl]);
        var a = await host.AddChannelAsync("a", ChannelType.Anthropic, [anthropic.BaseUrl]);
        var off = await host.AddChannelAsync("off", ChannelType.OpenAI, [openai.BaseUrl], tweak: c => c with { Enabled = false });
        await host.AddGroupAsync("estimated", GroupMode.Failover, [Member(o, priority: 0), Member(a, priority: 1)]);
        // A disabled channel is not usable: the Anthropic member behind it counts.
        await host.AddGroupAsync("counted", GroupMode.Failover, [Member(off, priority: 0), Member(a, priority: 1)]);
        using var client = AnthropicClient(host, await host.AddApiKeyAsync());

        var (_, estimated) = await PostAsync(client, Body.Replace("claude-group", "estimated"));
        Assert.Equal(Estimate(Body), estimated.GetProperty("input_tokens").GetInt64());
        Assert.Equal(0, anthropic.Count);

        var (_, counted) = await PostAsync(client, Body.Replace("claude-group", "counted"));
        Assert.Equal(Wire.CountedTokens, counted.GetProperty("input_tokens").GetInt32());
        Assert.Equal(1, anthropic.Count);
        Assert.Equal(0, openai.Count);
    }

    [Fact]
    public async Task Errors_come_in_Anthropics_shape()
    {
        var (host, mock, client) = await SetupAsync(ChannelType.Anthropic);
        await using var _ = host;
        await using var __ = mock;
        using var ___ = client;

        var (status, json) = await PostAsync(client, Body.Replace("claude-group", "no-such-group"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal("not_found_error", json.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("no-such-group", json.GetProperty("error").GetProperty("message").GetString());

        (status, json) = await PostAsync(client, """{"model":"claude-group","messages":"nope"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", json.GetProperty("error").GetProperty("type").GetString());

        (status, json) = await PostAsync(client, """{"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("model", json.GetProperty("error").GetProperty("message").GetString());

        using var anonymous = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        using var res = await anonymous.PostAsync("/v1/messages/count_tokens", Json(Body));
        Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
        var unauthorized = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("authentication_error", unauthorized.GetProperty("error").GetProperty("type").GetString());

        var limited = AnthropicClient(host, await host.AddApiKeyAsync("limited", k => k with { AllowedGroups = ["other"] }));
        (status, json) = await PostAsync(limited, Body);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("permission_error", json.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(0, mock.Count);
    }
}

/// <summary>The Anthropic SDK's messages.countTokens() against a channel of every type.</summary>
public sealed class SdkCountTokensTests
{
    // What client.mjs sends, written the same way: the estimate is deterministic for a body.
    private const string SdkBody = """
        {"model":"any-model","system":"You are terse.","messages":[{"role":"user","content":"What is the weather in Paris?"}],"tools":[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}
        """;

    [Theory]
    [MemberData(nameof(SdkConversation.EveryChannelType), MemberType = typeof(SdkConversation))]
    public async Task Anthropic_SDK_countTokens_gets_a_count_on_every_channel_type(string channelType)
    {
        var (sdk, upstream) = await SdkConversation.RunAsync("anthropic-count-tokens", channelType);
        var count = sdk.GetProperty("input_tokens").GetInt64();
        if (channelType == "anthropic")
        {
            Assert.Equal(Wire.CountedTokens, count);
            Assert.Equal("/messages/count_tokens", upstream.Single().Path);
        }
        else
        {
            Assert.Equal(RequestInspector.Inspect(ApiProtocol.Anthropic, Encoding.UTF8.GetBytes(SdkBody)).EstimatedInputTokens, count);
            Assert.Empty(upstream);
        }
    }
}
