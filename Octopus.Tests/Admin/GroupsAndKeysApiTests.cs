using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteGroupsAndKeysApiTests : GroupsAndKeysApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresGroupsAndKeysApiTests : GroupsAndKeysApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public abstract class GroupsAndKeysApiTests : AdminTestBase
{
    [Fact]
    public async Task Group_create_get_update_delete_with_member_channel_names()
    {
        var c1 = (await CreateChannelAsync("c1"))["id"]!.GetValue<long>();
        var c2 = (await CreateChannelAsync("c2"))["id"]!.GetValue<long>();
        var (status, g) = await Admin.PostJsonAsync("/api/v1/groups", J($$"""
            {"name":"gpt-4o","mode":"failover","members":[{"channel_id":{{c1}},"model":"gpt-4o","priority":0,"weight":3},{"channel_id":{{c2}},"model":"gpt-4o-2024","priority":1}],
             "settings":{"attempts_per_member":2,"cooldown_seconds":15},"aliases":["gpt-4o*"],"visible":false}
            """));
        Assert.Equal(201, status);
        var id = g!["id"]!.GetValue<long>();
        Assert.Equal("failover", g["mode"]!.GetValue<string>());
        Assert.Equal("c1", g["members"]![0]!["channel_name"]!.GetValue<string>());
        Assert.Equal(3, g["members"]![0]!["weight"]!.GetValue<int>());
        Assert.Equal(1, g["members"]![1]!["weight"]!.GetValue<int>());
        Assert.Equal(2, g["settings"]!["attempts_per_member"]!.GetValue<int>());
        Assert.Null(g["settings"]!["affinity_seconds"]);
        Assert.True(g["settings"]!.AsObject().ContainsKey("affinity_seconds"));
        Assert.False(g["visible"]!.GetValue<bool>());

        Assert.Single((await Admin.GetJsonAsync("/api/v1/groups")).Body!.AsArray());
        Assert.Equal("gpt-4o", (await Admin.GetJsonAsync($"/api/v1/groups/{id}")).Body!["name"]!.GetValue<string>());

        var updated = await Admin.PutJsonAsync($"/api/v1/groups/{id}", J("""{"mode":"weighted","aliases":[]}"""));
        Assert.Equal(200, updated.Status);
        Assert.Equal("weighted", updated.Body!["mode"]!.GetValue<string>());
        Assert.Equal(2, updated.Body["members"]!.AsArray().Count);
        Assert.Empty(updated.Body["aliases"]!.AsArray());

        Assert.Equal(204, (await Admin.DeleteJsonAsync($"/api/v1/groups/{id}")).Status);
        AssertError(404, "not_found", await Admin.GetJsonAsync($"/api/v1/groups/{id}"));
    }

    [Fact]
    public async Task Group_validation_unknown_channel_and_duplicates()
    {
        var c1 = (await CreateChannelAsync("c1"))["id"]!.GetValue<long>();
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/groups", J($$"""
            {"name":"g","mode":"fastest","members":[{"channel_id":{{c1}},"model":"m","weight":-1,"priority":-2,"extra":1}]}
            """)), "mode", "members[0].weight", "members[0].priority", "members[0].extra");
        AssertError(422, "unprocessable", await Admin.PostJsonAsync("/api/v1/groups", J("""{"name":"g","members":[{"channel_id":999999,"model":"m"}]}""")), "members[0].channel_id");
        Assert.Equal(201, (await Admin.PostJsonAsync("/api/v1/groups", J("""{"name":"g"}"""))).Status);
        AssertError(409, "duplicate_name", await Admin.PostJsonAsync("/api/v1/groups", J("""{"name":"g"}""")), "name");
    }

    [Fact]
    public async Task Group_members_reorder_sets_priorities_in_order()
    {
        var c1 = (await CreateChannelAsync("c1"))["id"]!.GetValue<long>();
        var g = (await Admin.PostJsonAsync("/api/v1/groups", J($$"""
            {"name":"g","members":[{"channel_id":{{c1}},"model":"a"},{"channel_id":{{c1}},"model":"b"},{"channel_id":{{c1}},"model":"c"}]}
            """))).Body!;
        var ids = g["members"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()).ToArray();
        var (status, r) = await Admin.PostJsonAsync($"/api/v1/groups/{g["id"]}/members/reorder", new JsonObject { ["member_ids"] = new JsonArray(ids[2], ids[0], ids[1]) });
        Assert.Equal(200, status);
        Assert.Equal(["c", "a", "b"], r!["members"]!.AsArray().Select(m => m!["model"]!.GetValue<string>()));
        Assert.Equal([0, 1, 2], r["members"]!.AsArray().Select(m => m!["priority"]!.GetValue<int>()));
        Assert.Equal([ids[2], ids[0], ids[1]], r["members"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()));
        AssertError(400, "validation_failed", await Admin.PostJsonAsync($"/api/v1/groups/{g["id"]}/members/reorder", new JsonObject { ["member_ids"] = new JsonArray(ids[0]) }), "member_ids");
    }

    [Fact]
    public async Task Groups_from_channel_make_one_group_per_model_and_skip_existing_names()
    {
        var c = await CreateChannelAsync("c1"); // models gpt-4o, gpt-4o-mini
        await Admin.PostJsonAsync("/api/v1/groups", J("""{"name":"gpt-4o"}"""));
        var (status, r) = await Admin.PostJsonAsync("/api/v1/groups/from-channel", new JsonObject { ["channel_id"] = c["id"]!.GetValue<long>() });
        Assert.Equal(200, status);
        var created = Assert.Single(r!["created"]!.AsArray());
        Assert.Equal("gpt-4o-mini", created!["name"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini", created["members"]![0]!["model"]!.GetValue<string>());
        Assert.Equal(["gpt-4o"], r["skipped"]!.AsArray().Select(s => s!.GetValue<string>()));
        AssertError(422, "unprocessable", await Admin.PostJsonAsync("/api/v1/groups/from-channel", J("""{"channel_id":999999}""")), "channel_id");
    }

    [Fact]
    public async Task Deleting_a_channel_removes_it_from_groups()
    {
        var c1 = (await CreateChannelAsync("c1"))["id"]!.GetValue<long>();
        var g = (await Admin.PostJsonAsync("/api/v1/groups", J($$"""{"name":"g","members":[{"channel_id":{{c1}},"model":"a"}]}"""))).Body!;
        await Admin.DeleteJsonAsync($"/api/v1/channels/{c1}");
        Assert.Empty((await Admin.GetJsonAsync($"/api/v1/groups/{g["id"]}")).Body!["members"]!.AsArray());
    }

    [Fact]
    public async Task Api_key_secret_is_shown_once_and_stored_as_its_hash()
    {
        var (status, k) = await Admin.PostJsonAsync("/api/v1/api-keys", J("""
            {"name":"team-a","expires_at":"2030-01-02T03:04:05Z","allowed_groups":["gpt-4o"],"budget":25.5,"budget_period":"monthly","rpm":60}
            """));
        Assert.Equal(201, status);
        var secret = k!["key"]!.GetValue<string>();
        Assert.StartsWith("sk-oc-", secret);
        Assert.True(secret.Length > 40);
        Assert.Equal(secret[..8] + "…" + secret[^2..], k["key_hint"]!.GetValue<string>());
        Assert.Equal("2030-01-02T03:04:05.000Z", k["expires_at"]!.GetValue<string>());
        Assert.Equal(25.5, k["budget"]!.GetValue<double>());
        Assert.Equal(60, k["rpm"]!.GetValue<int>());
        Assert.Null(k["tpm"]);

        var stored = await Server.Get<ApiKeyStore>().GetByHashAsync(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), CancellationToken.None);
        Assert.Equal(k["id"]!.GetValue<long>(), stored!.Id);

        var list = await Admin.GetJsonAsync("/api/v1/api-keys");
        Assert.DoesNotContain(secret, list.Body!.ToJsonString());
        Assert.False(list.Body![0]!.AsObject().ContainsKey("key"));
        var got = await Admin.GetJsonAsync($"/api/v1/api-keys/{k["id"]}");
        Assert.DoesNotContain(secret, got.Body!.ToJsonString());

        var upd = await Admin.PutJsonAsync($"/api/v1/api-keys/{k["id"]}", J("""{"enabled":false,"budget":null,"expires_at":null}"""));
        Assert.Equal(200, upd.Status);
        Assert.False(upd.Body!["enabled"]!.GetValue<bool>());
        Assert.Null(upd.Body["budget"]);
        Assert.Null(upd.Body["expires_at"]);
        Assert.Equal("team-a", upd.Body["name"]!.GetValue<string>());

        AssertError(409, "duplicate_name", await Admin.PostJsonAsync("/api/v1/api-keys", J("""{"name":"team-a"}""")), "name");
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/api-keys", J("""{"name":"","budget":-1,"budget_period":"hourly","rpm":0,"expires_at":"soon"}""")),
            "name", "budget", "budget_period", "rpm", "expires_at");
        Assert.Equal(204, (await Admin.DeleteJsonAsync($"/api/v1/api-keys/{k["id"]}")).Status);
        AssertError(404, "not_found", await Admin.DeleteJsonAsync($"/api/v1/api-keys/{k["id"]}"));
    }
}
