using System.Net;
using System.Text.Json.Nodes;
using Octopus.Admin;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Relay;
using Octopus.Storage;
using Octopus.Tests.Admin;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Faults;

/// <summary>Channel custom headers are an injection point: refused on save when they could split a request, never sent.</summary>
public sealed class HeaderInjectionTests : AdminTestBase
{
    internal override DbKind Kind => DbKind.Sqlite;

    private static JsonObject ChannelBody(string name, JsonObject headers) => new()
    {
        ["name"] = name,
        ["type"] = "openai",
        ["base_urls"] = new JsonArray("https://api.example.com/v1"),
        ["keys"] = new JsonArray("sk-test-key-0123456789"),
        ["models"] = new JsonArray("gpt-4o"),
        ["headers"] = headers,
    };

    [Theory]
    [InlineData("X-Tenant", "a\r\nX-Injected: 1", "must not contain line breaks")]
    [InlineData("X-Tenant", "a\nGET / HTTP/1.1", "must not contain line breaks")]
    [InlineData("X-Tenant", "a\0b", "must not contain line breaks or NUL")]
    [InlineData("X-Tenant\r\nX-Injected", "1", "is not a valid HTTP header name")]
    [InlineData("X Tenant", "1", "is not a valid HTTP header name")]
    [InlineData("X-Tenant:", "1", "is not a valid HTTP header name")]
    [InlineData("Content-Length", "0", "is set by the gateway itself")]
    [InlineData("Transfer-Encoding", "chunked", "is set by the gateway itself")]
    public async Task Header_injection_is_refused_by_the_admin_API_on_create_update_and_fetch_models(string name, string value, string why)
    {
        var headers = new JsonObject { [name] = value };
        var created = await Admin.PostJsonAsync("/api/v1/channels", ChannelBody("c", headers));
        AssertError(400, "validation_failed", created, why);
        Assert.Empty(await Server.Get<ChannelStore>().ListAsync(default));

        var ok = await CreateChannelAsync("fine");
        var id = ok["id"]!.GetValue<long>();
        var updated = await Admin.PutJsonAsync($"/api/v1/channels/{id}", new JsonObject { ["headers"] = headers.DeepClone() });
        AssertError(400, "validation_failed", updated, why);
        Assert.Empty((await Server.Get<ChannelStore>().GetAsync(id, default))!.Headers);

        var fetch = await Admin.PostJsonAsync("/api/v1/channels/fetch-models",
            new JsonObject { ["type"] = "openai", ["base_url"] = "http://127.0.0.1:9/v1", ["key"] = "sk-x", ["headers"] = headers.DeepClone() });
        AssertError(400, "validation_failed", fetch, why);
    }

    [Fact]
    public async Task A_well_formed_custom_header_is_saved_and_sent()
    {
        await using var mock = await MockUpstream.StartAsync("up");
        var body = ChannelBody("c", new JsonObject { ["X-Tenant"] = "acme\tteam" });
        body["base_urls"] = new JsonArray(mock.BaseUrl);
        var (status, reply) = await Admin.PostJsonAsync("/api/v1/channels", body);
        Assert.Equal(201, status);
        Assert.Equal("acme\tteam", reply!["headers"]!["X-Tenant"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_header_with_a_line_break_already_in_the_database_is_never_sent()
    {
        // As an old backup or a hand-edited row could hold it: the relay re-checks before sending.
        await using var mock = await MockUpstream.StartAsync("up");
        var channel = await Server.Get<ChannelStore>().CreateAsync(new Channel
        {
            Name = "c",
            Type = ChannelType.OpenAI,
            BaseUrls = [new ChannelBaseUrl { Url = mock.BaseUrl }],
            Keys = [new ChannelKey { Secret = "sk-up" }],
            Models = ["m"],
            Headers = new Dictionary<string, string> { ["X-Evil"] = "a\r\nX-Injected: 1", ["X-Good"] = "yes" },
        }, default);
        await Server.Get<GroupStore>().CreateAsync(new Group { Name = "g", Members = [new GroupMember { ChannelId = channel.Id, Model = "m" }] }, default);
        var secret = "sk-oct-header-test-0123456789";
        await Server.Get<ApiKeyStore>().CreateAsync(new ApiKey { Name = "k", KeyHash = ClientAuth.Hash(secret), KeyHint = "sk-oct…" }, default);
        await Server.Get<ConfigChangeSignal>().NotifyChanged();

        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        var res = await client.PostAsync("/v1/chat/completions", Relay.RelayBalancingTests.Chat("g"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var sent = mock.Requests.Single().Headers;
        Assert.Equal("yes", sent["x-good"]);
        Assert.False(sent.ContainsKey("x-evil"));
        Assert.False(sent.ContainsKey("x-injected"));
    }
}
