using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqlitePricesAndSettingsApiTests : PricesAndSettingsApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresPricesAndSettingsApiTests : PricesAndSettingsApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public abstract class PricesAndSettingsApiTests : AdminTestBase
{
    private const string ModelsDev = """
        {
          "openai": {"id":"openai","models":{
            "gpt-4o": {"id":"gpt-4o","cost":{"input":2.5,"output":10,"cache_read":1.25}},
            "gpt-4o-mini": {"id":"gpt-4o-mini","cost":{"input":0.15,"output":0.6}}}},
          "some-reseller": {"id":"some-reseller","models":{
            "gpt-4o": {"id":"gpt-4o","cost":{"input":99,"output":99}},
            "no-cost": {"id":"no-cost"}}},
          "anthropic": {"id":"anthropic","models":{
            "claude-sonnet-4-5": {"id":"claude-sonnet-4-5","cost":{"input":3,"output":15,"cache_read":0.3,"cache_write":3.75}}}}
        }
        """;

    [Fact]
    public async Task Price_sync_then_override_wins_and_reset_falls_back_to_synced()
    {
        await using var mock = await MockProvider.StartAsync();
        mock.On("GET", "/api.json", 200, ModelsDev);
        Assert.Equal(200, (await Admin.PutJsonAsync("/api/v1/settings", new JsonObject { ["price_source_url"] = mock.BaseUrl + "/api.json" })).Status);

        var (status, sync) = await Admin.PostJsonAsync("/api/v1/prices/sync");
        Assert.Equal(200, status);
        Assert.Equal(3, sync!["updated"]!.GetValue<int>());

        var prices = (await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray();
        Assert.Equal(["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"], prices.Select(p => p!["model"]!.GetValue<string>()));
        var gpt = prices.First(p => p!["model"]!.GetValue<string>() == "gpt-4o")!;
        Assert.Equal(2.5, gpt["input"]!.GetValue<double>()); // the maker's price, not the reseller's
        Assert.Equal("synced", gpt["source"]!.GetValue<string>());
        Assert.Equal(1.25, gpt["synced"]!["cache_read"]!.GetValue<double>());

        var put = await Admin.PutJsonAsync("/api/v1/prices/gpt-4o", J("""{"input":1,"output":4}"""));
        Assert.Equal(200, put.Status);
        Assert.Equal("user", put.Body!["source"]!.GetValue<string>());
        Assert.Equal(1, put.Body["input"]!.GetValue<double>());
        Assert.Equal(2.5, put.Body["synced"]!["input"]!.GetValue<double>());

        // A later sync leaves the override in force.
        await Admin.PostJsonAsync("/api/v1/prices/sync");
        gpt = (await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray().First(p => p!["model"]!.GetValue<string>() == "gpt-4o")!;
        Assert.Equal(1, gpt["input"]!.GetValue<double>());

        Assert.Equal(204, (await Admin.DeleteJsonAsync("/api/v1/prices/gpt-4o")).Status);
        gpt = (await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray().First(p => p!["model"]!.GetValue<string>() == "gpt-4o")!;
        Assert.Equal(2.5, gpt["input"]!.GetValue<double>());
        AssertError(404, "not_found", await Admin.DeleteJsonAsync("/api/v1/prices/gpt-4o"));

        // Slashes in model names; validation.
        Assert.Equal(200, (await Admin.PutJsonAsync("/api/v1/prices/openrouter/some-model", J("""{"input":0.5,"output":1,"cache_read":0.1}"""))).Status);
        Assert.Contains((await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray(), p => p!["model"]!.GetValue<string>() == "openrouter/some-model");
        AssertError(400, "validation_failed", await Admin.PutJsonAsync("/api/v1/prices/x", J("""{"input":-1,"foo":1}""")), "input", "output", "foo");
    }

    [Fact]
    public async Task Failed_price_sync_keeps_existing_prices_and_answers_502()
    {
        await using var mock = await MockProvider.StartAsync();
        await Server.Get<PriceStore>().UpsertSyncedAsync([new Price { Model = "kept", Input = 1, Output = 2 }], CancellationToken.None);
        mock.On("GET", "/api.json", 500, "oops");
        await Admin.PutJsonAsync("/api/v1/settings", new JsonObject { ["price_source_url"] = mock.BaseUrl + "/api.json" });
        var (status, body) = await Admin.PostJsonAsync("/api/v1/prices/sync");
        Assert.Equal(502, status);
        Assert.Equal("price_sync_failed", body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(0, body["updated"]!.GetValue<int>());
        mock.On("GET", "/api.json", 200, "not json");
        Assert.Equal(502, (await Admin.PostJsonAsync("/api/v1/prices/sync")).Status);
        Assert.Single((await Admin.GetJsonAsync("/api/v1/prices")).Body!.AsArray());
    }

    [Fact]
    public async Task Missing_prices_lists_channel_and_group_models_without_a_price()
    {
        await CreateChannelAsync("c1"); // gpt-4o, gpt-4o-mini
        await Admin.PutJsonAsync("/api/v1/prices/gpt-4o", J("""{"input":1,"output":1}"""));
        var (status, body) = await Admin.GetJsonAsync("/api/v1/prices/missing");
        Assert.Equal(200, status);
        Assert.Equal(["gpt-4o-mini"], body!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public async Task Settings_have_defaults_partial_put_and_validation_naming_fields()
    {
        var (status, s) = await Admin.GetJsonAsync("/api/v1/settings");
        Assert.Equal(200, status);
        Assert.Equal(1, s!["stats_save_interval"]!.GetValue<int>());
        Assert.Equal(30, s["log_retention_days"]!.GetValue<int>());
        Assert.Equal("off", s["body_capture"]!.GetValue<string>());
        Assert.Equal(10, s["body_sample_percent"]!.GetValue<int>());
        Assert.Equal(65536, s["body_max_bytes"]!.GetValue<int>());
        Assert.Equal(3, s["body_retention_days"]!.GetValue<int>());
        Assert.Equal(24, s["price_sync_interval_hours"]!.GetValue<int>());
        Assert.Equal("https://models.dev/api.json", s["price_source_url"]!.GetValue<string>());
        Assert.Equal(24, s["model_sync_interval_hours"]!.GetValue<int>());
        Assert.Empty(s["cors_allow_origins"]!.AsArray());
        Assert.Equal("", s["proxy"]!.GetValue<string>());
        Assert.DoesNotContain(s.AsObject(), p => p.Key.StartsWith('_'));

        var put = await Admin.PutJsonAsync("/api/v1/settings", J("""{"body_capture":"errors","log_retention_days":7,"cors_allow_origins":["https://ui.example.com"]}"""));
        Assert.Equal(200, put.Status);
        Assert.Equal("errors", put.Body!["body_capture"]!.GetValue<string>());
        Assert.Equal(7, put.Body["log_retention_days"]!.GetValue<int>());
        Assert.Equal(1, put.Body["stats_save_interval"]!.GetValue<int>());
        Assert.Equal(7, (await Admin.GetJsonAsync("/api/v1/settings")).Body!["log_retention_days"]!.GetValue<int>());

        AssertError(400, "validation_failed", await Admin.PutJsonAsync("/api/v1/settings", J("""
            {"stats_save_interval":0,"body_capture":"most","price_source_url":"nope","proxy":"ftp://p","cors_allow_origins":["https://x.com/path"],"colour":"red"}
            """)), "stats_save_interval", "body_capture", "price_source_url", "proxy", "cors_allow_origins", "colour");
        Assert.Equal("errors", (await Admin.GetJsonAsync("/api/v1/settings")).Body!["body_capture"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secret_settings_are_masked_in_replies_and_a_masked_value_sent_back_keeps_the_secret()
    {
        const string hook = "https://open.feishu.cn/open-apis/bot/v2/hook/0f6c1d2e-secret-token";
        const string proxy = "http://relay:s3cr3t-pass@10.0.0.2:3128";
        var put = await Admin.PutJsonAsync("/api/v1/settings", J($$"""{"notify_webhook_url":"{{hook}}","proxy":"{{proxy}}"}"""));
        Assert.Equal(200, put.Status);
        Assert.Equal("https://open.feishu.cn/****", put.Body!["notify_webhook_url"]!.GetValue<string>());
        Assert.Equal("http://relay:****@10.0.0.2:3128", put.Body["proxy"]!.GetValue<string>());
        var (_, got) = await Admin.GetJsonAsync("/api/v1/settings");
        Assert.DoesNotContain("secret-token", got!.ToJsonString());
        Assert.DoesNotContain("s3cr3t", got.ToJsonString());

        // The form saved as shown keeps both secrets; the stored values are what the relay and the notifier use.
        Assert.Equal(200, (await Admin.PutJsonAsync("/api/v1/settings", J("""{"notify_webhook_url":"https://open.feishu.cn/****","proxy":"http://relay:****@10.0.0.2:3128"}"""))).Status);
        var stored = Server.Get<Octopus.Settings.SettingsService>().Current;
        Assert.Equal(hook, stored.NotifyWebhookUrl);
        Assert.Equal(proxy, stored.Proxy);

        // Backups carry them in clear only with the keys.
        var plain = await Admin.GetStringAsync("/api/v1/backup");
        Assert.DoesNotContain("secret-token", plain);
        Assert.DoesNotContain("s3cr3t", plain);
        var full = await Admin.GetStringAsync("/api/v1/backup?include_keys=true");
        Assert.Contains("secret-token", full);
        Assert.Contains("s3cr3t-pass", full);

        // A new value replaces it; empty turns the webhook off.
        put = await Admin.PutJsonAsync("/api/v1/settings", J("""{"notify_webhook_url":"","proxy":"socks5://10.0.0.3:1080"}"""));
        Assert.Equal("", put.Body!["notify_webhook_url"]!.GetValue<string>());
        Assert.Equal("socks5://10.0.0.3:1080", put.Body["proxy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cors_is_off_until_an_origin_is_allowed()
    {
        async Task<HttpResponseMessage> Preflight()
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/channels");
            request.Headers.Add("Origin", "https://ui.example.com");
            request.Headers.Add("Access-Control-Request-Method", "GET");
            return await Server.Http.SendAsync(request);
        }

        using (var before = await Preflight())
            Assert.False(before.Headers.Contains("Access-Control-Allow-Origin"));

        await Admin.PutJsonAsync("/api/v1/settings", J("""{"cors_allow_origins":["https://ui.example.com"]}"""));
        using (var after = await Preflight())
        {
            Assert.Equal(204, (int)after.StatusCode);
            Assert.Equal("https://ui.example.com", after.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("Authorization", after.Headers.GetValues("Access-Control-Allow-Headers").Single());
        }
        using var other = new HttpRequestMessage(HttpMethod.Get, "/api/v1/channels");
        other.Headers.Add("Origin", "https://evil.example.com");
        using var otherReply = await Admin.SendAsync(other);
        Assert.False(otherReply.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
