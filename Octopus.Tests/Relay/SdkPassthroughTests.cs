using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>The official npm SDKs, as users run them, against Octopus relaying to same-protocol mock upstreams.</summary>
public sealed class SdkPassthroughTests
{
    private static async Task<(RelayHost Host, MockUpstream Mock, string Key)> SetupAsync(ChannelType type, string group)
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("sdk");
        var ch = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync(group, GroupMode.Failover, [Member(ch)]);
        return (host, mock, await host.AddApiKeyAsync());
    }

    [Theory]
    [InlineData("openai-chat")]
    [InlineData("openai-chat-stream")]
    public async Task OpenAI_SDK_chat_works_streamed_and_not(string scenario)
    {
        var (host, mock, key) = await SetupAsync(ChannelType.OpenAI, "gpt-group");
        await using var _ = host;
        await using var __ = mock;
        var r = await SdkClient.RunAsync(scenario, host.BaseUrl, key, "gpt-group");
        Assert.Equal("Hello from sdk", r.GetProperty("text").GetString());
        Assert.Equal("stop", r.GetProperty("finish").GetString());
        Assert.Equal(Wire.PromptTokens, r.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Theory]
    [InlineData("anthropic-messages")]
    [InlineData("anthropic-messages-stream")]
    public async Task Anthropic_SDK_messages_work_streamed_and_not(string scenario)
    {
        var (host, mock, key) = await SetupAsync(ChannelType.Anthropic, "claude-group");
        await using var _ = host;
        await using var __ = mock;
        var r = await SdkClient.RunAsync(scenario, host.BaseUrl, key, "claude-group");
        Assert.Equal("Hello from sdk", r.GetProperty("text").GetString());
        Assert.Equal("end_turn", r.GetProperty("stop").GetString());
        Assert.Equal(Wire.OutputTokens, r.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        // The SDK's key reached Octopus as x-api-key; the upstream got the channel's key instead.
        Assert.Equal("sk-upstream-c", mock.Requests.Single().Headers["x-api-key"]);
    }

    [Fact]
    public async Task SDK_model_lists_show_the_groups_in_each_shape()
    {
        var (host, mock, key) = await SetupAsync(ChannelType.OpenAI, "listed");
        await using var _ = host;
        await using var __ = mock;
        var openai = await SdkClient.RunAsync("openai-models", host.BaseUrl, key, "listed");
        Assert.Equal(["listed"], openai.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));
        var anthropic = await SdkClient.RunAsync("anthropic-models", host.BaseUrl, key, "listed");
        Assert.Equal(["listed"], anthropic.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task SDK_errors_arrive_in_each_protocols_shape()
    {
        var host = await StartAsync();
        await using var _ = host;
        var key = await host.AddApiKeyAsync();
        var openai = await SdkClient.RunAsync("openai-chat-error", host.BaseUrl, key, "no-such-group");
        Assert.Equal(404, openai.GetProperty("status").GetInt32());
        Assert.Contains("no-such-group", openai.GetProperty("error").GetString());
        var anthropic = await SdkClient.RunAsync("anthropic-messages-error", host.BaseUrl, "sk-wrong", "x");
        Assert.Equal(401, anthropic.GetProperty("status").GetInt32());
        Assert.Equal("authentication_error", anthropic.GetProperty("type").GetString());
    }
}
