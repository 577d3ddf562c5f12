using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>Every official SDK against a channel of every type: the relay converts both ways, streamed and not.</summary>
public sealed class SdkConversionTests
{
    public static TheoryData<string, string> Matrix()
    {
        var data = new TheoryData<string, string>();
        string[] scenarios = ["openai-chat", "openai-chat-stream", "openai-responses", "openai-responses-stream",
            "anthropic-messages", "anthropic-messages-stream", "gemini-generate", "gemini-generate-stream"];
        foreach (var scenario in scenarios)
            foreach (var type in ChannelTypes.All)
                data.Add(scenario, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task SDK_client_works_against_every_channel_type(string scenario, string channelType)
    {
        Assert.True(ChannelTypes.TryParse(channelType, out var type));
        await using var host = await StartAsync();
        await using var mock = await MockUpstream.StartAsync("sdk");
        var ch = await host.AddChannelAsync("c", type, [mock.BaseUrl]);
        await host.AddGroupAsync("any-model", GroupMode.Failover, [Member(ch)]);
        var key = await host.AddApiKeyAsync();

        var r = await SdkClient.RunAsync(scenario, host.BaseUrl, key, "any-model");

        Assert.Equal("Hello from sdk", r.GetProperty("text").GetString());
        // Usage made it through the conversion in the client's own terms.
        var usage = r.GetProperty("usage");
        var output = scenario.StartsWith("gemini") ? usage.GetProperty("candidatesTokenCount").GetInt32()
            : scenario.StartsWith("anthropic") ? usage.GetProperty("output_tokens").GetInt32()
            : scenario.StartsWith("openai-responses") ? usage.GetProperty("output_tokens").GetInt32()
            : usage.GetProperty("completion_tokens").GetInt32();
        Assert.Equal(Wire.OutputTokens, output);
        // The upstream was called in its own protocol, with the member's model.
        var upstream = mock.Requests.Single();
        Assert.Equal("upstream-model", upstream.Model);
    }
}
