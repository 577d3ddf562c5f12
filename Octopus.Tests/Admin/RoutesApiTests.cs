using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteRoutesApiTests : RoutesApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

/// <summary>/api/v1/routes: shapes, validation, backup, and rules live on the relay without a restart.</summary>
public abstract class RoutesApiTests : AdminTestBase
{
    /// <summary>A channel and groups `default`, `cheap`, `long` through the API; returns the channel id.</summary>
    private async Task<long> GroupsAsync(string baseUrl = "https://api.example.com/v1")
    {
        var channel = (await CreateChannelAsync("c", baseUrl))["id"]!.GetValue<long>();
        foreach (var name in (string[])["default", "cheap", "long"])
        {
            var (status, body) = await Admin.PostJsonAsync("/api/v1/groups", J($$$"""
                {"name":"{{{name}}}","mode":"failover","members":[{"channel_id":{{{channel}}},"model":"up-{{{name}}}"}],"settings":{"affinity_seconds":0}}
                """));
            Assert.True(status == 201, $"{status} {body}");
        }
        return channel;
    }

    [Fact]
    public async Task Route_create_list_get_update_delete()
    {
        await GroupsAsync();
        var (status, r) = await Admin.PostJsonAsync("/api/v1/routes", J("""
            {"name":"haiku to cheap","priority":5,"match":{"model":"claude-haiku-*","protocol":"anthropic","min_input_tokens":0,"has_images":false,
             "has_tools":true,"thinking":false,"header":{"X-Team":"re:^ml$"}},"group":"cheap"}
            """));
        Assert.Equal(201, status);
        var id = r!["id"]!.GetValue<long>();
        Assert.True(id > 0);
        Assert.Equal("haiku to cheap", r["name"]!.GetValue<string>());
        Assert.Equal(5, r["priority"]!.GetValue<int>());
        Assert.Equal("cheap", r["group"]!.GetValue<string>());
        Assert.Equal("""{"model":"claude-haiku-*","protocol":"anthropic","min_input_tokens":0,"has_images":false,"has_tools":true,"thinking":false,"header":{"X-Team":"re:^ml$"}}""",
            r["match"]!.ToJsonString());
        Assert.NotNull(r["created_at"]);

        // Only the conditions a rule sets are written; an absent match is {} (every request).
        var (status2, r2) = await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"all long","priority":1,"group":"long"}"""));
        Assert.Equal(201, status2);
        Assert.Equal("{}", r2!["match"]!.ToJsonString());

        // Listed in evaluation order: priority, then id.
        var list = (await Admin.GetJsonAsync("/api/v1/routes")).Body!.AsArray();
        Assert.Equal(["all long", "haiku to cheap"], list.Select(x => x!["name"]!.GetValue<string>()));
        Assert.Equal("haiku to cheap", (await Admin.GetJsonAsync($"/api/v1/routes/{id}")).Body!["name"]!.GetValue<string>());

        // PUT changes what it names; `match`, when given, replaces the whole match.
        var updated = await Admin.PutJsonAsync($"/api/v1/routes/{id}", J("""{"priority":0,"group":"long","match":{"thinking":true}}"""));
        Assert.Equal(200, updated.Status);
        Assert.Equal("haiku to cheap", updated.Body!["name"]!.GetValue<string>());
        Assert.Equal(0, updated.Body["priority"]!.GetValue<int>());
        Assert.Equal("long", updated.Body["group"]!.GetValue<string>());
        Assert.Equal("""{"thinking":true}""", updated.Body["match"]!.ToJsonString());
        Assert.Equal("haiku to cheap", (await Admin.GetJsonAsync("/api/v1/routes")).Body!.AsArray()[0]!["name"]!.GetValue<string>());

        Assert.Equal(204, (await Admin.DeleteJsonAsync($"/api/v1/routes/{id}")).Status);
        AssertError(404, "not_found", await Admin.GetJsonAsync($"/api/v1/routes/{id}"));
        AssertError(404, "not_found", await Admin.DeleteJsonAsync($"/api/v1/routes/{id}"));
        AssertError(404, "not_found", await Admin.PutJsonAsync($"/api/v1/routes/{id}", J("""{"priority":1}""")));
        Assert.Single((await Admin.GetJsonAsync("/api/v1/routes")).Body!.AsArray());
    }

    [Fact]
    public async Task Route_validation_names_every_bad_field()
    {
        await GroupsAsync();
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/routes", J("{}")), "name", "group");
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/routes", J("""
            {"name":"r","group":"cheap","colour":"red","priority":-1,
             "match":{"model":"re:([","protocol":"grpc","min_input_tokens":-5,"has_images":"yes","has_tools":1,"thinking":"on","header":{"X-Team":"re:(","Bad Name":"x","X-N":3},"size":"xl"}}
            """)), "colour", "priority", "match.model", "match.protocol", "match.min_input_tokens", "match.has_images", "match.has_tools", "match.thinking",
            "match.header.X-Team", "match.header.Bad Name", "match.header.X-N", "match.size");
        var unknownGroup = await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"nope"}"""));
        AssertError(400, "validation_failed", unknownGroup, "group");
        Assert.Contains("nope", unknownGroup.Body!["error"]!["fields"]!["group"]!.GetValue<string>());
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"cheap","match":["model"]}""")), "match");
        AssertError(400, "invalid_json", await Admin.PostJsonAsync("/api/v1/routes", J("[1]")));

        var (status, r) = await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"cheap"}"""));
        Assert.Equal(201, status);
        AssertError(409, "duplicate_name", await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"long"}""")), "name");
        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/routes/{r!["id"]}", J("""{"group":"nope","match":{"model":"re:("}}""")), "group", "match.model");
        Assert.Equal("cheap", (await Admin.GetJsonAsync($"/api/v1/routes/{r["id"]}")).Body!["group"]!.GetValue<string>());
    }

    [Fact]
    public async Task Routes_follow_a_renamed_group_and_go_with_a_deleted_one()
    {
        await GroupsAsync();
        var cheap = (await Admin.GetJsonAsync("/api/v1/groups")).Body!.AsArray().Single(g => g!["name"]!.GetValue<string>() == "cheap")!;
        var (_, r) = await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"cheap"}"""));
        await Admin.PutJsonAsync($"/api/v1/groups/{cheap["id"]}", J("""{"name":"budget"}"""));
        Assert.Equal("budget", (await Admin.GetJsonAsync($"/api/v1/routes/{r!["id"]}")).Body!["group"]!.GetValue<string>());
        Assert.Equal(204, (await Admin.DeleteJsonAsync($"/api/v1/groups/{cheap["id"]}")).Status);
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/routes")).Body!.AsArray());
    }

    [Fact]
    public async Task Route_changes_through_the_api_are_live_on_the_relay_without_restart()
    {
        await using var mock = await MockUpstream.StartAsync("m");
        await GroupsAsync(mock.BaseUrl);
        var key = (await Admin.PostJsonAsync("/api/v1/api-keys", J("""{"name":"client"}"""))).Body!["key"]!.GetValue<string>();
        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        async Task<string?> Served(string model)
        {
            using var res = await client.PostAsync("/v1/chat/completions",
                new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
            return mock.Requests.Last().Model;
        }

        Assert.Equal("up-default", await Served("default"));
        var (_, r) = await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r","group":"cheap","match":{"model":"def*"}}"""));
        Assert.Equal("up-cheap", await Served("default"));
        await Admin.PutJsonAsync($"/api/v1/routes/{r!["id"]}", J("""{"group":"long"}"""));
        Assert.Equal("up-long", await Served("default"));
        await Admin.DeleteJsonAsync($"/api/v1/routes/{r["id"]}");
        Assert.Equal("up-default", await Served("default"));
    }

    [Fact]
    public async Task Backup_carries_routes_and_import_checks_their_groups()
    {
        await GroupsAsync();
        await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r1","priority":2,"group":"cheap","match":{"model":"claude-haiku-*","header":{"X-Team":"ml"}}}"""));
        await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r2","group":"long","match":{"min_input_tokens":60000}}"""));
        var backup = (await Admin.GetJsonAsync("/api/v1/backup")).Body!;
        Assert.Equal(2, backup["routes"]!.AsArray().Count);

        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1}"""))).Status);
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/routes")).Body!.AsArray());

        var (status, counts) = await Admin.PostJsonAsync("/api/v1/backup", backup.DeepClone());
        Assert.Equal(200, status);
        Assert.Equal(2, counts!["routes"]!.GetValue<int>());
        var again = (await Admin.GetJsonAsync("/api/v1/backup")).Body!;
        Assert.Equal(backup["routes"]!.ToJsonString(), again["routes"]!.ToJsonString());
        // Ids survive, so new routes do not collide with restored ones.
        Assert.Equal(201, (await Admin.PostJsonAsync("/api/v1/routes", J("""{"name":"r3","group":"cheap"}"""))).Status);

        var bad = backup.DeepClone();
        bad["routes"]![0]!["group"] = "gone";
        bad["routes"]![1]!["match"]!["model"] = "re:(";
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", bad), "routes[0].group", "routes[1].match.model");
    }

    [Fact]
    public async Task Cleanup_preview_counts_rows_and_bytes_without_removing_them()
    {
        var preview = await Admin.GetJsonAsync("/api/v1/logs/cleanup");
        Assert.Equal(200, preview.Status);
        Assert.Equal(0, preview.Body!["logs"]!.GetValue<long>());
        Assert.Equal(0, preview.Body["bytes"]!.GetValue<long>());
        Assert.NotNull(preview.Body["logs_before"]);
        Assert.NotNull(preview.Body["bodies_before"]);
        var run = await Admin.PostJsonAsync("/api/v1/logs/cleanup");
        Assert.Equal(200, run.Status);
        Assert.Equal(0, run.Body!["logs"]!.GetValue<long>());
    }
}
