using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

/// <summary>Starts a fresh server (and database) per test and logs in as admin.</summary>
public abstract class AdminTestBase : IAsyncLifetime
{
    internal abstract DbKind Kind { get; }
    internal TestServer Server { get; private set; } = null!;
    internal HttpClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Kind);
        Admin = await Server.AdminClientAsync();
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }

    internal static JsonNode J(string json) => JsonNode.Parse(json)!;

    /// <summary>Creates a channel through the API and returns its JSON.</summary>
    internal async Task<JsonNode> CreateChannelAsync(string name, string baseUrl = "https://api.example.com/v1", string type = "openai", params string[] keys)
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["base_urls"] = new JsonArray(baseUrl),
            ["keys"] = new JsonArray(keys.Length == 0 ? ["sk-test-key-0123456789"] : keys.Select(k => (JsonNode)k).ToArray()),
            ["models"] = new JsonArray("gpt-4o", "gpt-4o-mini"),
        };
        var (status, reply) = await Admin.PostJsonAsync("/api/v1/channels", body);
        Assert.True(status == 201, $"create channel: {status} {reply}");
        return reply!;
    }

    internal static void AssertError(int expectedStatus, string expectedCode, (int Status, JsonNode? Body) reply, params string[] fieldsNamed)
    {
        Assert.True(reply.Status == expectedStatus, $"expected {expectedStatus}, got {reply.Status}: {reply.Body}");
        var error = reply.Body?["error"];
        Assert.NotNull(error);
        Assert.Equal(expectedCode, error["code"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        foreach (var f in fieldsNamed) Assert.Contains(f, message);
    }
}
