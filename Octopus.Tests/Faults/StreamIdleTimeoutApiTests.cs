using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Admin;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Faults;

/// <summary>The idle timeout that ends stalled streams is a group setting the admin API reads and writes.</summary>
public sealed class StreamIdleTimeoutApiTests : AdminTestBase
{
    internal override DbKind Kind => DbKind.Sqlite;

    [Fact]
    public async Task Stream_idle_timeout_is_set_through_the_admin_API_and_ends_a_stalled_stream()
    {
        await using var mock = await MockUpstream.StartAsync("up");
        mock.Behave = r =>
        {
            var reply = mock.DefaultReply(r);
            return reply with { StallAfter = reply.Events!.ToList().FindIndex(e => e.Contains("Hel")) + 1 };
        };
        var channel = await CreateChannelAsync("c", mock.BaseUrl);
        var (status, group) = await Admin.PostJsonAsync("/api/v1/groups", new JsonObject
        {
            ["name"] = "g",
            ["members"] = new JsonArray(new JsonObject { ["channel_id"] = channel["id"]!.GetValue<long>(), ["model"] = "m" }),
            ["settings"] = new JsonObject { ["stream_idle_timeout_seconds"] = 2 },
        });
        Assert.Equal(201, status);
        Assert.Equal(2, group!["settings"]!["stream_idle_timeout_seconds"]!.GetValue<int>());
        var bad = await Admin.PutJsonAsync($"/api/v1/groups/{group["id"]}", new JsonObject { ["settings"] = new JsonObject { ["stream_idle_timeout_seconds"] = 0 } });
        AssertError(400, "validation_failed", bad, "settings.stream_idle_timeout_seconds");
        var (_, key) = await Admin.PostJsonAsync("/api/v1/api-keys", new JsonObject { ["name"] = "k" });

        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key!["key"]!.GetValue<string>());
        var sw = Stopwatch.StartNew();
        var res = await client.PostAsync("/v1/chat/completions", Relay.RelayBalancingTests.Chat("g", stream: true));
        var body = await res.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("stalled: nothing for 2 s", body);
        Assert.InRange(sw.Elapsed.TotalSeconds, 1.9, 10);
    }
}
