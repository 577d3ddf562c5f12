using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Octopus.Configuration;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Relay;
using Octopus.Storage;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// A real Octopus (Kestrel on 127.0.0.1, port 0) on a fresh SQLite file (or a given database), with helpers that
/// write channels, groups and client keys straight into the stores and make them live, as the admin API does.
/// </summary>
public sealed class RelayHost : IAsyncDisposable
{
    private readonly string _dir;
    internal WebApplication App { get; }
    internal OctopusConfig Config { get; }
    public string BaseUrl { get; }
    public HttpClient Http { get; }

    private RelayHost(string dir, WebApplication app, OctopusConfig config, string baseUrl)
    {
        _dir = dir;
        App = app;
        Config = config;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <param name="services">Extra service registrations after the app's own (e.g. a fixed TimeProvider).</param>
    internal static async Task<RelayHost> StartAsync(Action<OctopusConfig>? configure = null, Action<WebApplicationBuilder>? services = null)
    {
        var dir = Directory.CreateTempSubdirectory("octopus-relay-").FullName;
        var config = new OctopusConfig
        {
            Host = "127.0.0.1",
            Port = 0,
            DatabasePath = Path.Combine(dir, "data.db"),
            LogLevel = "warn",
            SourcePath = Path.Combine(dir, "config.json"),
        };
        configure?.Invoke(config);
        var app = await OctopusServer.BuildAsync(config, services);
        await app.StartAsync();
        var url = OctopusServer.ListeningAddresses(app).First().Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1");
        return new RelayHost(dir, app, config, url);
    }

    internal T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    private Task ApplyAsync() => Get<ConfigChangeSignal>().NotifyChanged();

    internal async Task<Channel> AddChannelAsync(string name, ChannelType type, string[] baseUrls, string[]? keys = null,
        Func<Channel, Channel>? tweak = null)
    {
        var channel = new Channel
        {
            Name = name,
            Type = type,
            BaseUrls = baseUrls.Select(u => new ChannelBaseUrl { Url = u }).ToList(),
            Keys = (keys ?? [$"sk-upstream-{name}"]).Select(k => new ChannelKey { Secret = k }).ToList(),
            Models = ["model-a"],
        };
        if (tweak is not null) channel = tweak(channel);
        var created = await Get<ChannelStore>().CreateAsync(channel, default);
        await ApplyAsync();
        return created;
    }

    internal async Task<Group> AddGroupAsync(string name, GroupMode mode, IEnumerable<GroupMember> members, GroupSettings? settings = null,
        IReadOnlyList<string>? aliases = null)
    {
        var group = await Get<GroupStore>().CreateAsync(new Group
        {
            Name = name,
            Mode = mode,
            Members = members.ToList(),
            Settings = settings ?? new GroupSettings(),
            Aliases = aliases ?? [],
        }, default);
        await ApplyAsync();
        return group;
    }

    internal static GroupMember Member(Channel c, string model = "upstream-model", int priority = 0, int weight = 1, bool pinned = false) =>
        new() { ChannelId = c.Id, Model = model, Priority = priority, Weight = weight, Pinned = pinned };

    /// <summary>Creates a client key and returns its secret.</summary>
    internal async Task<string> AddApiKeyAsync(string name = "client", Func<ApiKey, ApiKey>? tweak = null)
    {
        var secret = "sk-oct-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var key = new ApiKey { Name = name, KeyHash = ClientAuth.Hash(secret), KeyHint = secret[..8] + "…" + secret[^2..] };
        if (tweak is not null) key = tweak(key);
        await Get<ApiKeyStore>().CreateAsync(key, default);
        await ApplyAsync();
        return secret;
    }

    /// <summary>An HttpClient sending <paramref name="secret"/> as a Bearer token.</summary>
    public HttpClient ClientFor(string secret)
    {
        var c = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await App.StopAsync(cts.Token);
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
