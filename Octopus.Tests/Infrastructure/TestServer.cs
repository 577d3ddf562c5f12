using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Storage;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// The real gateway on 127.0.0.1 (port 0) over a fresh database of the chosen kind. Gives the base address, a plain
/// HttpClient and an admin-authenticated one. Dispose stops the server and drops the database.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    /// <summary>The admin password the server starts with (as OCTOPUS_ADMIN_PASSWORD would set it).</summary>
    public const string AdminPassword = "test-admin-password";

    public WebApplication App { get; }
    public OctopusConfig Config { get; }
    public TestDatabase Database { get; }
    public Uri BaseAddress { get; }
    /// <summary>No credentials; for the relay or to test auth failures.</summary>
    public HttpClient Http { get; }

    private TestServer(WebApplication app, OctopusConfig config, TestDatabase database, Uri baseAddress)
    {
        App = app;
        Config = config;
        Database = database;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <param name="adminPassword">The first-start password; "" starts with admin/admin (must change).</param>
    /// <param name="configure">Changes to the config before start.</param>
    /// <param name="services">Extra service registrations (e.g. a fake IUnflushedStats).</param>
    public static async Task<TestServer> StartAsync(DbKind kind = DbKind.Sqlite, string adminPassword = AdminPassword,
        Action<OctopusConfig>? configure = null, Action<WebApplicationBuilder>? services = null)
    {
        var database = await TestDatabase.CreateAsync(kind);
        try
        {
            var config = database.Config;
            config.Host = "127.0.0.1";
            config.Port = 0;
            config.LogLevel = "warn";
            config.AdminPassword = adminPassword;
            configure?.Invoke(config);
            var app = await OctopusServer.BuildAsync(config, services);
            await app.StartAsync();
            var address = OctopusServer.ListeningAddresses(app).First();
            return new TestServer(app, config, database, new Uri(address));
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>POST /api/v1/auth/login; returns the token.</summary>
    public async Task<string> LoginAsync(string username = "admin", string password = AdminPassword)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/auth/login", new JsonObject { ["username"] = username, ["password"] = password });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"login failed: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }

    /// <summary>A client carrying a fresh admin token.</summary>
    public async Task<HttpClient> AdminClientAsync(string password = AdminPassword)
    {
        var token = await LoginAsync("admin", password);
        return ClientWithToken(token);
    }

    public HttpClient ClientWithToken(string token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        var db = App.Services.GetRequiredService<Octopus.Storage.Database>();
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
            await db.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}

/// <summary>JSON helpers for API tests: send a JsonNode, read the reply as a JsonNode.</summary>
internal static class HttpJson
{
    public static async Task<(int Status, JsonNode? Body)> SendAsync(this HttpClient http, HttpMethod method, string url, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? node = null;
        if (text.Length > 0)
        {
            try { node = JsonNode.Parse(text); }
            catch (JsonException) { node = JsonValue.Create(text); }
        }
        return ((int)response.StatusCode, node);
    }

    public static Task<(int Status, JsonNode? Body)> GetJsonAsync(this HttpClient http, string url) => http.SendAsync(HttpMethod.Get, url);

    public static Task<(int Status, JsonNode? Body)> PostJsonAsync(this HttpClient http, string url, JsonNode? body = null) => http.SendAsync(HttpMethod.Post, url, body);

    public static Task<(int Status, JsonNode? Body)> PutJsonAsync(this HttpClient http, string url, JsonNode body) => http.SendAsync(HttpMethod.Put, url, body);

    public static Task<(int Status, JsonNode? Body)> DeleteJsonAsync(this HttpClient http, string url) => http.SendAsync(HttpMethod.Delete, url);

    /// <summary>Parses JSON text written in a test (single quotes allowed for readability are not; use raw strings).</summary>
    public static JsonNode J(string json) => JsonNode.Parse(json)!;
}
