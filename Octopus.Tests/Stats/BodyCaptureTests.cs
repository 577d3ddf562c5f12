using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Relay.RelayFailoverTests;

namespace Octopus.Tests.Stats;

/// <summary>
/// Body capture keeps a small disk small (issue 12): bodies have their own shorter retention, the cleanup gives the
/// space back to the file system, and the admin API previews what a cleanup would remove.
/// </summary>
public sealed class BodyCaptureTests
{
    private static JsonNode J(string json) => JsonNode.Parse(json)!;

    private static long FileBytes(string path) =>
        (File.Exists(path) ? new FileInfo(path).Length : 0) + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

    [Fact]
    public async Task Ten_thousand_logged_bodies_are_previewed_cleaned_up_and_the_sqlite_file_shrinks()
    {
        await using var server = await TestServer.StartAsync(DbKind.Sqlite);
        using var admin = await server.AdminClientAsync();
        var writer = server.Get<RequestLogWriter>();
        var now = DateTimeOffset.UtcNow;
        // Half the requests are past the 30-day log retention, all are past the 3-day body retention.
        var old = now.AddDays(-40).ToUnixTimeMilliseconds();
        var recent = now.AddDays(-4).ToUnixTimeMilliseconds();
        var request = """{"model":"m","messages":[{"role":"user","content":" """ + new string('q', 1500) + "\"}]}";
        var response = """{"choices":[{"message":{"role":"assistant","content":" """ + new string('a', 500) + "\"}}]}";
        const int n = 10_000;
        var startWritten = writer.Written;
        for (var i = 0; i < n; i++)
        {
            var time = (i % 2 == 0 ? old : recent) + i;
            var id = LogIds.Floor(time); // as minted on arrival at that time
            writer.Enqueue(new RequestLog
            {
                Id = id, Time = time, RequestedModel = "m", GroupName = "m", Status = 200, LatencyMs = 12, ProtocolIn = "openai_chat",
                Attempts = [new RequestAttempt { ChannelId = 1, ChannelName = "c", BaseUrl = "https://api.example.com/v1", Model = "m", KeyId = 1, Status = 200, DurationMs = 11 }],
            }, new RequestBody { LogId = id, Time = time, Request = request, Response = response });
        }
        await WaitUntil(() => Task.FromResult(writer.Written - startWritten == n), timeoutMs: 120_000);

        var store = server.Get<RequestLogStore>();
        await store.ReclaimSpaceAsync(default); // checkpoint the WAL so the file holds everything
        var path = server.Config.DatabasePath;
        var before = FileBytes(path);
        Assert.True(before > n * 2000, $"database holds the bodies: {before} bytes");

        var preview = (await admin.GetJsonAsync("/api/v1/logs/cleanup")).Body!;
        Assert.Equal(n / 2, preview["logs"]!.GetValue<long>());
        Assert.Equal(n, preview["bodies"]!.GetValue<long>());
        Assert.True(preview["bytes"]!.GetValue<long>() >= n * (request.Length + response.Length), preview.ToJsonString());
        // A preview removes nothing.
        Assert.Equal(n, (await admin.GetJsonAsync("/api/v1/logs/cleanup")).Body!["bodies"]!.GetValue<long>());

        var run = (await admin.PostJsonAsync("/api/v1/logs/cleanup")).Body!;
        Assert.Equal(n / 2, run["logs"]!.GetValue<long>());
        Assert.Equal(n, run["bodies"]!.GetValue<long>());

        var after = FileBytes(path);
        Assert.True(after < before / 4, $"file shrank from {before} to {after} bytes");
        // The recent logs stay, without their bodies.
        var page = (await admin.GetJsonAsync("/api/v1/logs?limit=500")).Body!;
        Assert.Equal(500, page["items"]!.AsArray().Count);
        var detail = (await admin.GetJsonAsync($"/api/v1/logs/{page["items"]![0]!["id"]}")).Body!;
        Assert.Null(detail["body"]);
        var empty = (await admin.GetJsonAsync("/api/v1/logs/cleanup")).Body!;
        Assert.Equal(0, empty["logs"]!.GetValue<long>());
        Assert.Equal(0, empty["bodies"]!.GetValue<long>());
    }

    [Fact]
    public async Task Errors_mode_stores_the_bodies_of_failed_requests_only()
    {
        await using var server = await TestServer.StartAsync(DbKind.Sqlite);
        using var admin = await server.AdminClientAsync();
        await using var mock = await MockUpstream.StartAsync("m");
        mock.Behave = r => r.BodyText.Contains("please fail") ? new MockUpstream.Reply { Status = 500, Body = """{"error":{"message":"upstream broke"}}""" } : null;

        var channel = (await admin.PostJsonAsync("/api/v1/channels", J($$"""
            {"name":"c","type":"openai","base_urls":["{{mock.BaseUrl}}"],"keys":["sk-upstream-0123456789"],"models":["m"]}
            """))).Body!["id"]!.GetValue<long>();
        Assert.Equal(201, (await admin.PostJsonAsync("/api/v1/groups", J($$"""{"name":"g","mode":"failover","members":[{"channel_id":{{channel}},"model":"m"}]}"""))).Status);
        var key = (await admin.PostJsonAsync("/api/v1/api-keys", J("""{"name":"client"}"""))).Body!["key"]!.GetValue<string>();
        Assert.Equal(200, (await admin.PutJsonAsync("/api/v1/settings", J("""{"body_capture":"errors"}"""))).Status);

        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        async Task<HttpStatusCode> Send(string text)
        {
            using var res = await client.PostAsync("/v1/chat/completions",
                new StringContent($$"""{"model":"g","messages":[{"role":"user","content":"{{text}}"}]}""", Encoding.UTF8, "application/json"));
            return res.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Send("all good"));
        Assert.Equal(HttpStatusCode.BadGateway, await Send("please fail"));
        Assert.Equal(HttpStatusCode.OK, await Send("fine again"));

        JsonArray items = [];
        await WaitUntil(async () => (items = (await admin.GetJsonAsync("/api/v1/logs")).Body!["items"]!.AsArray()).Count == 3, timeoutMs: 10_000);
        var withBodies = new List<JsonNode>();
        foreach (var item in items)
        {
            var detail = (await admin.GetJsonAsync($"/api/v1/logs/{item!["id"]}")).Body!;
            if (detail["body"] is not null) withBodies.Add(detail);
        }
        var failed = Assert.Single(withBodies);
        Assert.Equal(502, failed["status"]!.GetValue<int>());
        Assert.Contains("please fail", failed["body"]!["request"]!.GetValue<string>());
        Assert.Contains("upstream broke", failed["body"]!["response"]?.GetValue<string>() ?? failed["error"]!.GetValue<string>());
    }
}
