using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteChannelEndpointsApiTests : ChannelEndpointsApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresChannelEndpointsApiTests : ChannelEndpointsApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public sealed class MySqlChannelEndpointsApiTests : ChannelEndpointsApiTests
{
    internal override DbKind Kind => DbKind.MySql;
}

/// <summary>`endpoints` of multi-protocol channels through the admin API and backups (migration 4 on every database).</summary>
public abstract class ChannelEndpointsApiTests : AdminTestBase
{
    [Fact]
    public async Task Channel_endpoints_are_stored_returned_kept_on_partial_update_and_cleared_with_an_empty_list()
    {
        var (status, c) = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"both","type":"openai","base_urls":["https://x.example/v1"],"keys":["sk-test-key-0123456789"],
             "endpoints":[{"type":"anthropic","base_urls":["https://x.example/anthropic/v1/","https://y.example/anthropic/v1"]},
                          {"type":"gemini","base_url":"https://x.example/gemini/v1beta"}]}
            """));
        Assert.True(status == 201, c?.ToJsonString());
        var id = c!["id"]!.GetValue<long>();
        Assert.Equal("""[{"type":"anthropic","base_urls":["https://x.example/anthropic/v1","https://y.example/anthropic/v1"]},{"type":"gemini","base_urls":["https://x.example/gemini/v1beta"]}]""",
            c["endpoints"]!.ToJsonString());

        var updated = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"name":"both-renamed"}"""));
        Assert.Equal(200, updated.Status);
        Assert.Equal(c["endpoints"]!.ToJsonString(), updated.Body!["endpoints"]!.ToJsonString());
        Assert.Equal(c["endpoints"]!.ToJsonString(), (await Admin.GetJsonAsync($"/api/v1/channels/{id}")).Body!["endpoints"]!.ToJsonString());

        var replaced = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"endpoints":[{"type":"anthropic","base_urls":["https://z.example/v1"]}]}"""));
        Assert.Equal("""[{"type":"anthropic","base_urls":["https://z.example/v1"]}]""", replaced.Body!["endpoints"]!.ToJsonString());

        var cleared = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"endpoints":[]}"""));
        Assert.Empty(cleared.Body!["endpoints"]!.AsArray());

        // A channel made without endpoints answers an empty list: the existing shape only gains a field.
        var plain = await CreateChannelAsync("plain");
        Assert.Empty(plain["endpoints"]!.AsArray());
    }

    [Fact]
    public async Task Channel_endpoint_validation_names_each_bad_field()
    {
        var reply = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"bad","type":"openai","base_urls":["https://x.example/v1"],"keys":["k"],
             "endpoints":[{"type":"anthropc","base_urls":["https://a"]},{"type":"gemini","base_urls":[]},{"type":"anthropic","base_urls":["ftp://x"],"colour":1},"nope"]}
            """));
        AssertError(400, "validation_failed", reply, "endpoints[0].type", "endpoints[1].base_urls", "endpoints[2].base_urls[0]", "endpoints[2].colour", "endpoints[3]");

        // The channel's own protocol is not listed again, and no protocol twice.
        var own = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"own","type":"openai","base_urls":["https://x.example/v1"],"keys":["k"],"endpoints":[{"type":"volcengine","base_urls":["https://v.example/v1"]}]}
            """));
        AssertError(400, "validation_failed", own, "endpoints[0].type", "openai_chat");
        var twice = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"twice","type":"openai","base_urls":["https://x.example/v1"],"keys":["k"],
             "endpoints":[{"type":"anthropic","base_urls":["https://a.example/v1"]},{"type":"anthropic","base_urls":["https://b.example/v1"]}]}
            """));
        AssertError(400, "validation_failed", twice, "endpoints[1].type");
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"shape","type":"openai","base_urls":["https://x.example/v1"],"keys":["k"],"endpoints":{"type":"anthropic"}}
            """)), "endpoints");

        // Changing the type to one an endpoint already serves is refused too.
        var (_, c) = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"ok","type":"openai","base_urls":["https://x.example/v1"],"keys":["k"],"endpoints":[{"type":"anthropic","base_urls":["https://a.example/v1"]}]}
            """));
        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/channels/{c!["id"]}", J("""{"type":"anthropic"}""")), "endpoints[0].type");
    }

    [Fact]
    public async Task Backup_exports_and_imports_channel_endpoints()
    {
        var (_, c) = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"both","type":"openai","base_urls":["https://x.example/v1"],"keys":["sk-test-key-0123456789"],
             "endpoints":[{"type":"anthropic","base_urls":["https://x.example/anthropic/v1"]}]}
            """));
        var backup = (await Admin.GetJsonAsync("/api/v1/backup?include_keys=true")).Body!;
        Assert.Equal(c!["endpoints"]!.ToJsonString(), backup["channels"]![0]!["endpoints"]!.ToJsonString());

        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", J("""{"version":1}"""))).Status);
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/channels")).Body!.AsArray());
        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", backup)).Status);
        var restored = (await Admin.GetJsonAsync($"/api/v1/channels/{c["id"]}")).Body!;
        Assert.Equal(c["endpoints"]!.ToJsonString(), restored["endpoints"]!.ToJsonString());

        // A backup written before endpoints existed (no field) still imports, as single-protocol channels.
        var old = backup.DeepClone().AsObject();
        old["channels"]![0]!.AsObject().Remove("endpoints");
        Assert.Equal(200, (await Admin.PostJsonAsync("/api/v1/backup", old)).Status);
        Assert.Empty((await Admin.GetJsonAsync($"/api/v1/channels/{c["id"]}")).Body!["endpoints"]!.AsArray());

        var bad = backup.DeepClone().AsObject();
        bad["channels"]![0]!["endpoints"] = J("""[{"type":"openai","base_urls":["https://x.example/v1"]}]""");
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/backup", bad), "channels[0].endpoints[0].type");
    }
}
