using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Pricing;
using Octopus.Settings;
using Octopus.Storage;
using Octopus.Sync;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Sync;

public sealed class SyncSchedulerTests
{
    private const string ModelsDev = """{"openai":{"models":{"gpt-test":{"id":"gpt-test","cost":{"input":1.5,"output":6,"cache_read":0.15}}}}}""";

    private static async Task SetAsync(RelayHost host, Dictionary<string, string> values)
    {
        await host.Get<SettingStore>().SetAsync(values, default);
        await host.Get<SettingsService>().ReloadAsync(default);
        await host.Get<ConfigChangeSignal>().NotifyChanged();
    }

    [Fact]
    public async Task Due_price_sync_fills_prices_and_a_failing_source_keeps_them()
    {
        await using var host = await RelayHost.StartAsync();
        await using var source = await MockUpstream.StartAsync("models.dev");
        var fail = false;
        source.Behave = _ => fail ? new MockUpstream.Reply { Status = 503, Body = "down" } : new MockUpstream.Reply { Body = ModelsDev };
        await SetAsync(host, new() { ["price_source_url"] = source.BaseUrl + "/api.json", ["price_sync_interval_hours"] = "1", ["model_sync_interval_hours"] = "0" });
        var scheduler = host.Get<SyncScheduler>();

        await scheduler.RunDueAsync(default);
        Assert.True(host.Get<PriceBook>().TryGet("gpt-test", out var price));
        Assert.Equal(1.5, price.Input);
        Assert.Equal(1, source.Count);

        // Not due again within the interval.
        await scheduler.RunDueAsync(default);
        Assert.Equal(1, source.Count);

        // A failing source (next interval) changes nothing.
        fail = true;
        scheduler.MakeDue();
        await scheduler.RunDueAsync(default);
        Assert.Equal(2, source.Count);
        Assert.True(host.Get<PriceBook>().TryGet("gpt-test", out price));
        Assert.Equal(6, price.Output);
    }

    [Fact]
    public async Task Due_model_sync_updates_auto_sync_channels_only_with_their_filter()
    {
        await using var host = await RelayHost.StartAsync();
        await using var upstream = await MockUpstream.StartAsync("up");
        var auto = await host.AddChannelAsync("auto", ChannelType.OpenAI, [upstream.BaseUrl], tweak: c => c with { AutoSync = true, ModelFilter = "^gpt-" });
        var manual = await host.AddChannelAsync("manual", ChannelType.OpenAI, [upstream.BaseUrl]);
        await SetAsync(host, new() { ["price_sync_interval_hours"] = "0", ["model_sync_interval_hours"] = "24" });

        await host.Get<SyncScheduler>().RunDueAsync(default);

        var store = host.Get<ChannelStore>();
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], (await store.GetAsync(auto.Id, default))!.SyncedModels);
        Assert.Empty((await store.GetAsync(manual.Id, default))!.SyncedModels);
    }
}
