using System.Net.Http.Headers;
using System.Text;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>
/// A channel that declares an OpenAI endpoint (its type and base URLs) and an Anthropic endpoint (an extra one):
/// each client's request goes to the endpoint of its own protocol untouched, and only a protocol the channel lacks
/// is converted.
/// </summary>
public sealed class MultiProtocolChannelTests
{
    // Odd spacing, a thinking block with a signature and a cache breakpoint: all must reach the upstream as sent.
    private static readonly string AnthropicBody = """
        {"model" : "both",   "max_tokens":64,
         "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],
         "messages":[{"role":"user","content":"Hi"},
                     {"role":"assistant","content":[{"type":"thinking","thinking":THINKING,"signature":SIGNATURE},{"type":"text","text":"Hello"}]},
                     {"role":"user","content":"Again, with \u00e9 and 1.50e2"}]}
        """.Replace("THINKING", Wire.J(Wire.ThinkingText))
           .Replace("SIGNATURE", Wire.J(Wire.AnthropicSignature));

    private static async Task<(RelayHost Host, MockUpstream Mock, string Key)> SetupAsync()
    {
        var host = await StartAsync();
        var mock = await MockUpstream.StartAsync("multi");
        var ch = await host.AddChannelAsync("provider", ChannelType.OpenAI, [mock.BaseUrl + "/v1"], tweak: c => c with
        {
            Endpoints = [new ChannelEndpoint { Type = ChannelType.Anthropic, BaseUrls = [new ChannelBaseUrl { Url = mock.BaseUrl + "/anthropic/v1" }] }],
        });
        await host.AddGroupAsync("both", GroupMode.Failover, [Member(ch, "upstream-model")]);
        return (host, mock, await host.AddApiKeyAsync());
    }

    [Fact]
    public async Task Anthropic_client_reaches_the_anthropic_endpoint_with_its_body_unchanged_but_the_model()
    {
        var (host, mock, key) = await SetupAsync();
        await using var _ = host;
        await using var __ = mock;
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(AnthropicBody, Encoding.UTF8, "application/json") };
        req.Headers.Add("x-api-key", key);
        req.Headers.Add("anthropic-version", "2023-06-01");
        req.Headers.Add("anthropic-beta", "interleaved-thinking-2025-05-14");
        using var res = await client.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, text);
        Assert.Contains("Hello from multi", text);

        var got = Assert.Single(mock.Requests);
        Assert.Equal("/anthropic/v1/messages", got.Path);
        Assert.Equal(AnthropicBody.Replace("\"both\"", "\"upstream-model\""), got.BodyText);
        Assert.Equal("sk-upstream-provider", got.Headers["x-api-key"]);
        Assert.False(got.Headers.ContainsKey("authorization"));
        Assert.Equal("interleaved-thinking-2025-05-14", got.Headers["anthropic-beta"]);
    }

    [Fact]
    public async Task OpenAI_client_reaches_the_openai_endpoint_with_its_body_unchanged_but_the_model()
    {
        var (host, mock, key) = await SetupAsync();
        await using var _ = host;
        await using var __ = mock;
        const string body = """{"model":"both","messages":[{"role":"user","content":"Say hello"}],  "temperature":0.25}""";
        using var res = await host.ClientFor(key).PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
        var got = Assert.Single(mock.Requests);
        Assert.Equal("/v1/chat/completions", got.Path);
        Assert.Equal(body.Replace("\"both\"", "\"upstream-model\""), got.BodyText);
        Assert.Equal("Bearer sk-upstream-provider", got.Headers["authorization"]);
    }

    [Fact]
    public async Task Gemini_client_is_converted_to_the_channels_primary_protocol()
    {
        var (host, mock, key) = await SetupAsync();
        await using var _ = host;
        await using var __ = mock;
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/both:generateContent")
        {
            Content = new StringContent("""{"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}""", Encoding.UTF8, "application/json"),
        };
        req.Headers.Add("x-goog-api-key", key);
        using var res = await client.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, text);
        Assert.Contains("Hello from multi", text);
        Assert.Contains("candidates", text);
        var got = Assert.Single(mock.Requests);
        Assert.Equal("/v1/chat/completions", got.Path);
        Assert.Equal("upstream-model", got.Json.GetProperty("model").GetString());
        Assert.Equal("Say hello", got.Json.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Anthropic_SDK_streams_through_the_anthropic_endpoint_of_an_openai_typed_channel()
    {
        var (host, mock, key) = await SetupAsync();
        await using var _ = host;
        await using var __ = mock;
        var r = await SdkClient.RunAsync("anthropic-messages-stream", host.BaseUrl, key, "both");
        Assert.Equal("Hello from multi", r.GetProperty("text").GetString());
        Assert.Equal("/anthropic/v1/messages", Assert.Single(mock.Requests).Path);
    }

    [Fact]
    public async Task Embeddings_use_the_openai_endpoint_of_an_anthropic_typed_channel()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("multi");
        var ch = await host.AddChannelAsync("provider", ChannelType.Anthropic, [mock.BaseUrl + "/anthropic/v1"], tweak: c => c with
        {
            Endpoints = [new ChannelEndpoint { Type = ChannelType.OpenAI, BaseUrls = [new ChannelBaseUrl { Url = mock.BaseUrl + "/openai/v1" }] }],
        });
        await host.AddGroupAsync("embed", GroupMode.Failover, [Member(ch, "text-embedding-3-small")]);
        var key = await host.AddApiKeyAsync();
        using var res = await host.ClientFor(key).PostAsync("/v1/embeddings",
            new StringContent("""{"model":"embed","input":"hello","encoding_format":"float"}""", Encoding.UTF8, "application/json"));
        Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
        var got = Assert.Single(mock.Requests);
        Assert.Equal("/openai/v1/embeddings", got.Path);
        Assert.Equal("Bearer sk-upstream-provider", got.Headers["authorization"]);
    }

    [Fact]
    public async Task Single_protocol_channels_still_convert_as_before()
    {
        var host = await StartAsync();
        await using var _ = host;
        await using var mock = await MockUpstream.StartAsync("plain");
        var ch = await host.AddChannelAsync("plain", ChannelType.OpenAI, [mock.BaseUrl + "/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)]);
        var key = await host.AddApiKeyAsync();
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(AnthropicBody.Replace("\"both\"", "\"g\""), Encoding.UTF8, "application/json") };
        req.Headers.Add("x-api-key", key);
        req.Headers.Add("anthropic-version", "2023-06-01");
        using var res = await client.SendAsync(req);
        Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
        Assert.Equal("/v1/chat/completions", Assert.Single(mock.Requests).Path);
    }

    [Fact]
    public async Task Count_tokens_asks_the_anthropic_endpoint_of_a_multi_protocol_channel()
    {
        var (host, mock, key) = await SetupAsync();
        await using var _ = host;
        await using var __ = mock;
        using var client = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens")
        {
            Content = new StringContent("""{"model":"both","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        };
        req.Headers.Add("x-api-key", key);
        req.Headers.Add("anthropic-version", "2023-06-01");
        using var res = await client.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, text);
        Assert.Contains($"\"input_tokens\":{Wire.CountedTokens}", text);
        Assert.Equal("/anthropic/v1/messages/count_tokens", Assert.Single(mock.Requests).Path);
    }
}
