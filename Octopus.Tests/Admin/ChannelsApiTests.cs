using System.Text.Json.Nodes;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteChannelsApiTests : ChannelsApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresChannelsApiTests : ChannelsApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public abstract class ChannelsApiTests : AdminTestBase
{
    [Fact]
    public async Task Channel_create_returns_201_with_id_and_masked_keys_everywhere()
    {
        var (status, c) = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"openai-main","type":"openai","base_urls":["https://api.openai.com/v1/"],"keys":["sk-abcdefghijklmnopqrstuvwxyz","short"],
             "models":["gpt-4o"],"headers":{"x-org":"o1"},"param_override":{"temperature":0},"probe_policy":"active","auto_sync":true,"model_filter":"^gpt"}
            """));
        Assert.Equal(201, status);
        var id = c!["id"]!.GetValue<long>();
        Assert.True(id > 0);
        Assert.Equal("https://api.openai.com/v1", c["base_urls"]![0]!.GetValue<string>());
        Assert.Equal("sk-ab…yz", c["keys"]![0]!["key"]!.GetValue<string>());
        Assert.Equal("****", c["keys"]![1]!["key"]!.GetValue<string>());
        Assert.Equal("active", c["keys"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(0, c["param_override"]!["temperature"]!.GetValue<int>());
        Assert.Equal("o1", c["headers"]!["x-org"]!.GetValue<string>());
        Assert.True(c["auto_sync"]!.GetValue<bool>());
        Assert.True(c["enabled"]!.GetValue<bool>());
        Assert.Empty(c["synced_models"]!.AsArray());
        Assert.EndsWith("Z", c["created_at"]!.GetValue<string>());

        var list = await Admin.GetJsonAsync("/api/v1/channels");
        Assert.Equal(200, list.Status);
        var listed = Assert.Single(list.Body!.AsArray());
        Assert.Equal("sk-ab…yz", listed!["keys"]![0]!["key"]!.GetValue<string>());
        Assert.DoesNotContain("abcdefghijklmnop", list.Body.ToJsonString());
        var got = await Admin.GetJsonAsync($"/api/v1/channels/{id}");
        Assert.DoesNotContain("abcdefghijklmnop", got.Body!.ToJsonString());

        var keyId = c["keys"]![0]!["id"]!.GetValue<long>();
        var reveal = await Admin.GetJsonAsync($"/api/v1/channels/{id}/keys/{keyId}/reveal");
        Assert.Equal("sk-abcdefghijklmnopqrstuvwxyz", reveal.Body!["key"]!.GetValue<string>());
        AssertError(404, "not_found", await Admin.GetJsonAsync($"/api/v1/channels/{id}/keys/999999/reveal"));
    }

    [Fact]
    public async Task Channel_proxy_password_is_masked_and_kept_when_sent_back_as_shown()
    {
        var (status, c) = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"behind-proxy","type":"openai","base_urls":["https://api.openai.com/v1"],"keys":["sk-abcdefghijklmnopqrstuvwxyz"],"proxy":"http://me:pr0xy-pass@10.0.0.2:3128"}
            """));
        Assert.Equal(201, status);
        var id = c!["id"]!.GetValue<long>();
        Assert.Equal("http://me:****@10.0.0.2:3128", c["proxy"]!.GetValue<string>());
        Assert.DoesNotContain("pr0xy-pass", (await Admin.GetJsonAsync("/api/v1/channels")).Body!.ToJsonString());

        // The editor saves the channel with the proxy as it was shown: the password stays.
        var (putStatus, _) = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"name":"behind-proxy-2","proxy":"http://me:****@10.0.0.2:3128"}"""));
        Assert.Equal(200, putStatus);
        var stored = await Server.Get<ChannelStore>().GetAsync(id, CancellationToken.None);
        Assert.Equal("http://me:pr0xy-pass@10.0.0.2:3128", stored!.Proxy);
        Assert.Contains("pr0xy-pass", await Admin.GetStringAsync("/api/v1/backup?include_keys=true"));
        Assert.DoesNotContain("pr0xy-pass", await Admin.GetStringAsync("/api/v1/backup"));

        // A proxy without credentials shows as is.
        var (_, plain) = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"proxy":"socks5://10.0.0.3:1080"}"""));
        Assert.Equal("socks5://10.0.0.3:1080", plain!["proxy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Channel_validation_names_every_bad_field_at_once()
    {
        var reply = await Admin.PostJsonAsync("/api/v1/channels", J("""
            {"name":"","type":"openia","base_urls":["ftp://x","not a url"],"keys":[""],"models":"gpt","colour":"blue","probe_policy":"sometimes","model_filter":"(["}
            """));
        AssertError(400, "validation_failed", reply, "name", "type", "base_urls[0]", "base_urls[1]", "keys[0]", "models", "colour", "probe_policy", "model_filter");
        var fields = reply.Body!["error"]!["fields"]!.AsObject();
        Assert.Equal("unknown field", fields["colour"]!.GetValue<string>());
        Assert.Contains("openai_responses", fields["type"]!.GetValue<string>());

        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/channels", J("""{"type":"openai"}""")), "name", "base_urls");
        AssertError(400, "invalid_json", await Admin.SendAsync(HttpMethod.Post, "/api/v1/channels", JsonValue.Create("[1,2]")));
    }

    [Fact]
    public async Task Channel_duplicate_name_is_409_and_missing_channel_is_404()
    {
        await CreateChannelAsync("dup");
        var reply = await Admin.PostJsonAsync("/api/v1/channels", J("""{"name":"dup","type":"openai","base_urls":["https://x.example"],"keys":["k"]}"""));
        AssertError(409, "duplicate_name", reply, "name");
        AssertError(404, "not_found", await Admin.GetJsonAsync("/api/v1/channels/424242"));
        AssertError(404, "not_found", await Admin.PutJsonAsync("/api/v1/channels/424242", J("""{"name":"x"}""")));
        AssertError(404, "not_found", await Admin.DeleteJsonAsync("/api/v1/channels/424242"));
    }

    [Fact]
    public async Task Channel_update_is_partial_and_keys_keep_their_status()
    {
        var c = await CreateChannelAsync("upd", keys: ["sk-first-key-0000000001", "sk-second-key-000000002"]);
        var id = c["id"]!.GetValue<long>();
        var k1 = c["keys"]![0]!["id"]!.GetValue<long>();
        var k2 = c["keys"]![1]!["id"]!.GetValue<long>();

        var aside = await Admin.PostJsonAsync($"/api/v1/channels/{id}/keys/{k1}/set-aside", J("""{"reason":"quota exhausted"}"""));
        Assert.Equal("set_aside", aside.Body!["status"]!.GetValue<string>());
        Assert.Equal("quota exhausted", aside.Body["status_reason"]!.GetValue<string>());

        var (status, u) = await Admin.PutJsonAsync($"/api/v1/channels/{id}", J($$"""
            {"name":"upd2","keys":[{"id":{{k1}},"remark":"main"},"sk-third-key-0000000003"],"enabled":false}
            """));
        Assert.Equal(200, status);
        Assert.Equal("upd2", u!["name"]!.GetValue<string>());
        Assert.False(u["enabled"]!.GetValue<bool>());
        Assert.Equal("openai", u["type"]!.GetValue<string>()); // untouched fields stay
        Assert.Equal(2, u["models"]!.AsArray().Count);
        var keys = u["keys"]!.AsArray();
        Assert.Equal(2, keys.Count);
        Assert.Equal(k1, keys[0]!["id"]!.GetValue<long>());
        Assert.Equal("set_aside", keys[0]!["status"]!.GetValue<string>());
        Assert.Equal("main", keys[0]!["remark"]!.GetValue<string>());
        Assert.Equal("active", keys[1]!["status"]!.GetValue<string>());
        Assert.DoesNotContain(keys, k => k!["id"]!.GetValue<long>() == k2);

        var reset = await Admin.PostJsonAsync($"/api/v1/channels/{id}/keys/{k1}/reset");
        Assert.Equal(200, reset.Status);
        Assert.Equal("active", reset.Body!["status"]!.GetValue<string>());
        Assert.Equal("sk-first-key-0000000001", (await Admin.GetJsonAsync($"/api/v1/channels/{id}/keys/{k1}/reveal")).Body!["key"]!.GetValue<string>());

        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"keys":[{"id":987654}]}""")), "keys[0].id");
        AssertError(400, "validation_failed", await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"base_urls":["relative/path"]}""")), "base_urls[0]");

        Assert.Equal(204, (await Admin.DeleteJsonAsync($"/api/v1/channels/{id}")).Status);
        AssertError(404, "not_found", await Admin.GetJsonAsync($"/api/v1/channels/{id}"));
    }

    [Fact]
    public async Task Channel_test_sends_one_request_in_the_channels_protocol()
    {
        await using var mock = await MockProvider.StartAsync();
        mock.On("POST", "/v1/chat/completions", 200, """{"id":"x","choices":[{"message":{"role":"assistant","content":"pong"}}]}""");
        mock.On("POST", "/anthropic/messages", 200, """{"id":"msg","type":"message","content":[{"type":"text","text":"pong"}]}""");
        mock.On("POST", "/gemini/models/gemini-2.0-flash:generateContent", 200, """{"candidates":[]}""");
        mock.On("POST", "/bad/responses", 401, """{"error":{"message":"invalid api key"}}""");

        var openai = await CreateChannelAsync("t-openai", mock.BaseUrl + "/v1", "openai", "sk-openai-key-00000001");
        var (status, r) = await Admin.PostJsonAsync($"/api/v1/channels/{openai["id"]}/test");
        Assert.Equal(200, status);
        Assert.True(r!["ok"]!.GetValue<bool>());
        Assert.Equal(200, r["status"]!.GetValue<int>());
        Assert.Equal("gpt-4o", r["model"]!.GetValue<string>());
        Assert.True(r["latency_ms"]!.GetValue<long>() >= 0);
        var seen = mock.Seen.Last();
        Assert.Equal("Bearer sk-openai-key-00000001", seen.Headers["authorization"]);
        Assert.Equal("gpt-4o", JsonNode.Parse(seen.Body)!["model"]!.GetValue<string>());

        var anthropic = await CreateChannelAsync("t-anthropic", mock.BaseUrl + "/anthropic", "anthropic", "sk-ant-key-0000000001");
        r = (await Admin.PostJsonAsync($"/api/v1/channels/{anthropic["id"]}/test", J("""{"model":"claude-haiku-4-5"}"""))).Body;
        Assert.True(r!["ok"]!.GetValue<bool>());
        seen = mock.Seen.Last();
        Assert.Equal("sk-ant-key-0000000001", seen.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", seen.Headers["anthropic-version"]);
        Assert.Equal("claude-haiku-4-5", JsonNode.Parse(seen.Body)!["model"]!.GetValue<string>());

        var gemini = await CreateChannelAsync("t-gemini", mock.BaseUrl + "/gemini", "gemini", "AIza-gemini-key-000001");
        r = (await Admin.PostJsonAsync($"/api/v1/channels/{gemini["id"]}/test", J("""{"model":"gemini-2.0-flash"}"""))).Body;
        Assert.True(r!["ok"]!.GetValue<bool>());
        Assert.Contains("key=AIza-gemini-key-000001", mock.Seen.Last().PathAndQuery);

        var bad = await CreateChannelAsync("t-bad", mock.BaseUrl + "/bad", "openai_responses", "sk-bad-key-00000000001");
        r = (await Admin.PostJsonAsync($"/api/v1/channels/{bad["id"]}/test")).Body;
        Assert.False(r!["ok"]!.GetValue<bool>());
        Assert.Equal(401, r["status"]!.GetValue<int>());
        Assert.Contains("invalid api key", r["error"]!.GetValue<string>());

        var down = await CreateChannelAsync("t-down", "http://127.0.0.1:1/v1");
        r = (await Admin.PostJsonAsync($"/api/v1/channels/{down["id"]}/test")).Body;
        Assert.False(r!["ok"]!.GetValue<bool>());
        Assert.Equal(0, r["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Model_sync_applies_the_filter_stores_models_and_reports_changes()
    {
        await using var mock = await MockProvider.StartAsync();
        mock.On("GET", "/v1/models", 200, """{"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt-4.1"},{"id":"whisper-1"},{"id":"text-embedding-3-small"}]}""");
        var c = await CreateChannelAsync("sync", mock.BaseUrl + "/v1");
        var id = c["id"]!.GetValue<long>();
        await Admin.PutJsonAsync($"/api/v1/channels/{id}", J("""{"model_filter":"^gpt-"}"""));

        var (status, r) = await Admin.PostJsonAsync($"/api/v1/channels/{id}/sync-models");
        Assert.Equal(200, status);
        Assert.Equal(["gpt-4o", "gpt-4.1"], r!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(2, r["added"]!.AsArray().Count);
        Assert.Empty(r["removed"]!.AsArray());
        Assert.Equal(2, (await Admin.GetJsonAsync($"/api/v1/channels/{id}")).Body!["synced_models"]!.AsArray().Count);

        mock.On("GET", "/v1/models", 200, """{"data":[{"id":"gpt-4o"}]}""");
        r = (await Admin.PostJsonAsync($"/api/v1/channels/{id}/sync-models")).Body;
        Assert.Equal(["gpt-4.1"], r!["removed"]!.AsArray().Select(m => m!.GetValue<string>()));

        mock.On("GET", "/v1/models", 500, """{"error":"boom"}""");
        AssertError(502, "upstream_failed", await Admin.PostJsonAsync($"/api/v1/channels/{id}/sync-models"));
        Assert.Single((await Admin.GetJsonAsync($"/api/v1/channels/{id}")).Body!["synced_models"]!.AsArray());

        // The create form can list models before the channel exists.
        mock.On("GET", "/ant/models", 200, """{"data":[{"id":"claude-sonnet-4-5"}],"has_more":false}""");
        var fetched = await Admin.PostJsonAsync("/api/v1/channels/fetch-models", new JsonObject { ["type"] = "anthropic", ["base_url"] = mock.BaseUrl + "/ant", ["key"] = "sk-ant-x" });
        Assert.Equal(200, fetched.Status);
        Assert.Equal("claude-sonnet-4-5", fetched.Body!["models"]![0]!.GetValue<string>());
        Assert.Equal("sk-ant-x", mock.Seen.Last().Headers["x-api-key"]);
        AssertError(400, "validation_failed", await Admin.PostJsonAsync("/api/v1/channels/fetch-models", J("""{"type":"nope","base_url":"x"}""")), "type", "base_url", "key");
    }

    [Fact]
    public async Task Admin_request_bodies_over_8_MiB_are_refused_with_413()
    {
        // Declared too large: answered before the body is sent (raw socket, so the client does not trip on the early reply).
        var token = Admin.DefaultRequestHeaders.Authorization!.Parameter;
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(Server.BaseAddress.Host, Server.BaseAddress.Port);
            var stream = tcp.GetStream();
            var head = $"POST /api/v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {9 * 1024 * 1024}\r\n\r\n";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var n = await stream.ReadAsync(buffer, cts.Token);
            var reply = System.Text.Encoding.UTF8.GetString(buffer, 0, n);
            Assert.StartsWith("HTTP/1.1 413", reply);
            Assert.Contains("payload_too_large", reply);
        }

        // Streamed without a length: cut off once it passes 8 MiB.
        var chunk = new string('a', 1024 * 1024);
        var content = new PushStreamContent(async s =>
        {
            await s.WriteAsync(System.Text.Encoding.ASCII.GetBytes("{\"name\":\""));
            for (var i = 0; i < 9; i++) await s.WriteAsync(System.Text.Encoding.ASCII.GetBytes(chunk));
            await s.WriteAsync(System.Text.Encoding.ASCII.GetBytes("\"}"));
        });
        try
        {
            using var response = await Admin.PostAsync("/api/v1/channels", content);
            Assert.Equal(413, (int)response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The server may close the connection before the client finishes writing; that is a refusal too.
        }
        Assert.Empty((await Admin.GetJsonAsync("/api/v1/channels")).Body!.AsArray());
    }

    private sealed class PushStreamContent(Func<Stream, Task> write) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => write(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
