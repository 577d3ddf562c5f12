using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Octopus.Domain;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Relay;

/// <summary>`/proxy/{group}/{native path}` against a real Octopus and a recording upstream on loopback.</summary>
public sealed class ProxyTests
{
    private static readonly GroupSettings Quick = new() { AffinitySeconds = 0, ResponseTimeoutSeconds = 5, CooldownSeconds = 0 };

    /// <summary>An upstream that records every request (method, path, query, headers, body) and answers per script.</summary>
    internal sealed class Upstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public string Url { get; }
        public ConcurrentQueue<Seen> Requests { get; } = new();
        public Func<HttpContext, Seen, Task>? Reply { get; set; }

        public sealed record Seen(string Method, string Path, string Query, Dictionary<string, string> Headers, byte[] Body)
        {
            public string Text => Encoding.UTF8.GetString(Body);
        }

        private Upstream(WebApplication app, string url) { _app = app; Url = url; }

        public static async Task<Upstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => { k.Listen(IPAddress.Loopback, 0); k.Limits.MaxRequestBodySize = null; });
            var app = builder.Build();
            Upstream? self = null;
            app.Run(async ctx =>
            {
                using var ms = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(ms);
                var seen = new Seen(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "",
                    ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), ms.ToArray());
                self!.Requests.Enqueue(seen);
                if (self.Reply is { } reply) await reply(ctx, seen);
                else await ctx.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["method"] = seen.Method, ["path"] = seen.Path },
                    ProxyTestJson.Default.DictionaryStringString);
            });
            await app.StartAsync();
            self = new Upstream(app, app.Urls.First());
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static Task Json(HttpContext ctx, string json)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json);
    }

    private static async Task<(RelayHost Host, Upstream Up, Channel Channel, HttpClient Client, string Secret)> SetupAsync(
        ChannelType type = ChannelType.OpenAI, string version = "v1", Func<Channel, Channel>? tweak = null, Func<ApiKey, ApiKey>? key = null)
    {
        var host = await StartAsync();
        var up = await Upstream.StartAsync();
        var channel = await host.AddChannelAsync("c1", type, [$"{up.Url}/{version}"], ["sk-upstream-secret-0001"], tweak);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel)], Quick);
        var secret = await host.AddApiKeyAsync("client", key);
        return (host, up, channel, host.ClientFor(secret), secret);
    }

    [Fact]
    public async Task Get_model_list_is_forwarded_with_the_channel_key_and_the_reply_streams_back()
    {
        var (host, up, _, client, secret) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        up.Reply = (ctx, _) => ctx.Response.WriteAsync("""{"object":"list","data":[{"id":"text-embedding-3-small","object":"model"}]}""");

        var res = await client.GetAsync("/proxy/g/models?limit=5");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("text-embedding-3-small", await res.Content.ReadAsStringAsync());
        var seen = Assert.Single(up.Requests);
        Assert.Equal("GET", seen.Method);
        Assert.Equal("/v1/models", seen.Path);
        Assert.Equal("?limit=5", seen.Query);
        Assert.Equal("Bearer sk-upstream-secret-0001", seen.Headers["authorization"]);
        Assert.DoesNotContain(secret, string.Join("\n", seen.Headers.Values));
    }

    [Fact]
    public async Task Post_json_goes_to_the_native_path_with_the_body_and_model_untouched()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        up.Reply = (ctx, _) => ctx.Response.WriteAsync("""{"object":"list","data":[{"object":"embedding","embedding":[0.1,0.2],"index":0}]}""");
        const string body = """{"model":"whatever-the-client-says","input":"hello"}""";

        var res = await client.PostAsync("/proxy/g/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("embedding", await res.Content.ReadAsStringAsync());
        var seen = Assert.Single(up.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/v1/embeddings", seen.Path);
        Assert.Equal(body, seen.Text);
        Assert.StartsWith("application/json", seen.Headers["content-type"]);
    }

    [Fact]
    public async Task A_path_repeating_the_base_url_version_is_not_doubled()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        var res = await client.GetAsync("/proxy/g/v1/files/file-abc/content");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("/v1/files/file-abc/content", Assert.Single(up.Requests).Path);
    }

    [Fact]
    public async Task Multipart_upload_arrives_intact()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        var audio = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(audio);
        using var form = new MultipartFormDataContent("octopus-boundary-42");
        form.Add(new StringContent("whisper-1"), "model");
        form.Add(new ByteArrayContent(audio) { Headers = { ContentType = new MediaTypeHeaderValue("audio/mpeg") } }, "file", "speech.mp3");
        var expected = await form.ReadAsByteArrayAsync();

        var res = await client.PostAsync("/proxy/g/audio/transcriptions", form);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var seen = Assert.Single(up.Requests);
        Assert.Equal("/v1/audio/transcriptions", seen.Path);
        Assert.Equal("multipart/form-data; boundary=\"octopus-boundary-42\"", seen.Headers["content-type"]);
        Assert.Equal(expected, seen.Body);
    }

    [Fact]
    public async Task Streaming_sse_response_passes_through_as_it_arrives()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        var release = new TaskCompletionSource();
        up.Reply = async (ctx, _) =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: {\"n\":1}\n\n");
            await ctx.Response.Body.FlushAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await ctx.Response.WriteAsync("data: {\"n\":2}\n\ndata: [DONE]\n\n");
        };

        using var req = new HttpRequestMessage(HttpMethod.Post, "/proxy/g/chat/completions")
        {
            Content = new StringContent("""{"model":"x","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"),
        };
        using var res = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("text/event-stream", res.Content.Headers.ContentType!.MediaType);
        var reader = new StreamReader(await res.Content.ReadAsStreamAsync());
        // The first event arrives while the upstream is still holding the rest back.
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("data: {\"n\":1}", first);
        release.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("data: {\"n\":2}", rest);
        Assert.Contains("data: [DONE]", rest);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(0)]
    public async Task Failover_to_the_second_member_on_500_or_refused_connection(int firstStatus)
    {
        await using var host = await StartAsync();
        await using var bad = await Upstream.StartAsync();
        await using var good = await Upstream.StartAsync();
        bad.Reply = (ctx, _) => { ctx.Response.StatusCode = 500; return ctx.Response.WriteAsync("""{"error":{"message":"boom"}}"""); };
        var first = await host.AddChannelAsync("first", ChannelType.OpenAI,
            [firstStatus == 0 ? $"http://127.0.0.1:{RelayFailoverTests.ClosedPort()}/v1" : bad.Url + "/v1"], ["sk-upstream-first-0001"]);
        var second = await host.AddChannelAsync("second", ChannelType.OpenAI, [good.Url + "/v1"], ["sk-upstream-second-001"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(first, priority: 0), Member(second, priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        // A body bigger than one read, so the replay buffer really is replayed.
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["model"] = "m", ["input"] = new string('x', 200_000) }, ProxyTestJson.Default.DictionaryStringString);
        var res = await client.PostAsync("/proxy/g/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var seen = Assert.Single(good.Requests);
        Assert.Equal(body, seen.Text);
        Assert.Equal("Bearer sk-upstream-second-001", seen.Headers["authorization"]);
        Assert.Equal(firstStatus == 0 ? 0 : 1, bad.Requests.Count);
    }

    [Fact]
    public async Task An_upload_bigger_than_the_replay_buffer_is_not_retried_and_gets_the_upstreams_answer()
    {
        await using var host = await StartAsync();
        await using var bad = await Upstream.StartAsync();
        await using var good = await Upstream.StartAsync();
        bad.Reply = (ctx, _) => { ctx.Response.StatusCode = 500; return Json(ctx, """{"error":{"message":"disk full"}}"""); };
        var first = await host.AddChannelAsync("first", ChannelType.OpenAI, [bad.Url + "/v1"]);
        var second = await host.AddChannelAsync("second", ChannelType.OpenAI, [good.Url + "/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(first, priority: 0), Member(second, priority: 1)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/proxy/g/files", new ByteArrayContent(new byte[Octopus.Relay.Proxy.ProxyHandler.ReplayBufferBytes + 1024 * 1024]));
        Assert.Equal(HttpStatusCode.InternalServerError, res.StatusCode);
        Assert.Contains("disk full", await res.Content.ReadAsStringAsync());
        Assert.Equal(Octopus.Relay.Proxy.ProxyHandler.ReplayBufferBytes + 1024 * 1024, Assert.Single(bad.Requests).Body.Length);
        Assert.Empty(good.Requests);
    }

    [Fact]
    public async Task All_members_failing_gives_a_502_in_the_channel_protocol_shape_without_the_key()
    {
        var (host, up, _, _, _) = await SetupAsync(ChannelType.Anthropic);
        await using var _h = host;
        await using var _u = up;
        up.Reply = (ctx, s) => { ctx.Response.StatusCode = 503; return ctx.Response.WriteAsync($$$"""{"error":{"message":"overloaded for key {{{s.Headers["x-api-key"]}}}"}}"""); };
        using var client = host.ClientFor(await host.AddApiKeyAsync("other"));

        var res = await client.PostAsync("/proxy/g/messages/batches", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadGateway, res.StatusCode);
        var text = await res.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        Assert.Contains("group 'g'", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain("sk-upstream-secret-0001", text);
    }

    [Fact]
    public async Task Anthropic_channel_gets_x_api_key_and_the_clients_anthropic_version_and_custom_headers()
    {
        var (host, up, _, _, secret) = await SetupAsync(ChannelType.Anthropic,
            tweak: c => c with { Headers = new Dictionary<string, string> { ["x-custom-tenant"] = "home" } });
        await using var _h = host;
        await using var _u = up;
        using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        http.DefaultRequestHeaders.Add("x-api-key", secret);
        http.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        http.DefaultRequestHeaders.Add("anthropic-beta", "files-api-2025-04-14");

        var res = await http.GetAsync("/proxy/g/v1/files");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var seen = Assert.Single(up.Requests);
        Assert.Equal("/v1/files", seen.Path);
        Assert.Equal("sk-upstream-secret-0001", seen.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", seen.Headers["anthropic-version"]);
        Assert.Equal("files-api-2025-04-14", seen.Headers["anthropic-beta"]);
        Assert.Equal("home", seen.Headers["x-custom-tenant"]);
        Assert.False(seen.Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task Gemini_channel_gets_x_goog_api_key_and_the_clients_query_key_is_dropped()
    {
        var (host, up, _, _, secret) = await SetupAsync(ChannelType.Gemini, version: "v1beta");
        await using var _h = host;
        await using var _u = up;
        var res = await host.Http.PostAsync($"/proxy/g/v1beta/models/text-embedding-004:embedContent?key={secret}&alt=json",
            new StringContent("""{"content":{"parts":[{"text":"hi"}]}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var seen = Assert.Single(up.Requests);
        Assert.Equal("/v1beta/models/text-embedding-004:embedContent", seen.Path);
        Assert.Equal("?alt=json", seen.Query);
        Assert.Equal("sk-upstream-secret-0001", seen.Headers["x-goog-api-key"]);
    }

    [Fact]
    public async Task Client_credentials_and_hop_by_hop_headers_are_not_sent_upstream()
    {
        var (host, up, _, client, secret) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        using var req = new HttpRequestMessage(HttpMethod.Get, "/proxy/g/models");
        req.Headers.Add("x-api-key", secret);
        req.Headers.Add("Cookie", "session=gateway-admin");
        req.Headers.Add("Proxy-Authorization", "Basic abc");
        req.Headers.Add("X-Request-Tag", "kept");
        var res = await client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var seen = Assert.Single(up.Requests);
        var all = string.Join("\n", seen.Headers.Select(h => h.Key + ": " + h.Value));
        Assert.DoesNotContain(secret, all);
        Assert.False(seen.Headers.ContainsKey("cookie"));
        Assert.False(seen.Headers.ContainsKey("proxy-authorization"));
        Assert.False(seen.Headers.ContainsKey("x-api-key"));
        Assert.Equal("kept", seen.Headers["x-request-tag"]);
    }

    [Fact]
    public async Task The_upstream_key_never_comes_back_in_headers_or_error_bodies()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        up.Reply = (ctx, s) =>
        {
            var key = s.Headers["authorization"]["Bearer ".Length..];
            ctx.Response.Headers["x-echo-key"] = key;
            ctx.Response.Headers["Set-Cookie"] = "provider=1";
            ctx.Response.Headers["x-request-id"] = "req_123";
            if (s.Path.EndsWith("/bad"))
            {
                ctx.Response.StatusCode = 400;
                return ctx.Response.WriteAsync($$$"""{"error":{"message":"Incorrect request for key {{{key}}}"}}""");
            }
            return ctx.Response.WriteAsync("{}");
        };

        var ok = await client.GetAsync("/proxy/g/models");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.False(ok.Headers.Contains("x-echo-key"));
        Assert.False(ok.Headers.Contains("Set-Cookie"));
        Assert.Equal("req_123", ok.Headers.GetValues("x-request-id").Single());

        var bad = await client.GetAsync("/proxy/g/bad");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var text = await bad.Content.ReadAsStringAsync();
        Assert.DoesNotContain("sk-upstream-secret-0001", text);
        Assert.Contains("[redacted]", text);
    }

    [Fact]
    public async Task Unknown_group_is_404_and_a_wrong_key_is_401_and_a_forbidden_group_is_403()
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        var unknown = await client.GetAsync("/proxy/nope/models");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("nope", JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());

        using var wrong = host.ClientFor("sk-oct-not-a-key");
        var unauthorized = await wrong.GetAsync("/proxy/g/models");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("invalid API key", JsonDocument.Parse(await unauthorized.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());

        using var limited = host.ClientFor(await host.AddApiKeyAsync("limited", k => k with { AllowedGroups = ["other"] }));
        Assert.Equal(HttpStatusCode.Forbidden, (await limited.GetAsync("/proxy/g/models")).StatusCode);
        Assert.Empty(up.Requests);
    }

    [Theory]
    [InlineData("/proxy/g/../../api/v1/channels")]
    [InlineData("/proxy/g/%2e%2e/%2e%2e/api/v1/channels")]
    [InlineData("/proxy/g/..%2F..%2Fadmin")]
    [InlineData("/proxy/g/models/..%5C..%5Csecret")]
    public async Task Path_traversal_does_not_escape(string path)
    {
        var (host, up, _, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        // Sent raw: HttpClient would normalise the dots itself.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(new Uri(host.BaseUrl).Host, new Uri(host.BaseUrl).Port);
        var stream = tcp.GetStream();
        var auth = client.DefaultRequestHeaders.Authorization!.ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"));
        var reply = await new StreamReader(stream).ReadToEndAsync();
        var status = int.Parse(reply.Split(' ')[1]);
        // Either refused by the proxy (400) or, normalised by Kestrel, an admin route that wants an admin token.
        Assert.True(status is 400 or 401 or 404, reply);
        Assert.DoesNotContain("sk-upstream", reply);
        Assert.All(up.Requests, r => Assert.StartsWith("/v1/", r.Path));
        Assert.DoesNotContain(up.Requests, r => r.Path.Contains("..") || r.Path.Contains("admin") || r.Path.Contains("secret") || r.Path.Contains("api/v1"));
    }

    [Fact]
    public async Task A_body_over_the_gateway_limit_is_413_in_the_channel_shape()
    {
        await using var host = await StartAsync(c => c.MaxBodyMb = 1);
        await using var up = await Upstream.StartAsync();
        var channel = await host.AddChannelAsync("c1", ChannelType.OpenAI, [up.Url + "/v1"]);
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channel)], Quick);
        using var client = host.ClientFor(await host.AddApiKeyAsync());

        var res = await client.PostAsync("/proxy/g/files", new ByteArrayContent(new byte[2 * 1024 * 1024]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        Assert.Contains("server.max_body_mb", JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Official_sdks_use_the_proxy_as_their_base_url()
    {
        await using var host = await StartAsync();
        await using var openai = await Upstream.StartAsync();
        await using var anthropic = await Upstream.StartAsync();
        openai.Reply = (ctx, s) => Json(ctx, s.Path.EndsWith("/embeddings")
            ? """{"object":"list","data":[{"object":"embedding","embedding":[0.25,-0.5],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}"""
            : """{"text":"hello from the transcript"}""");
        anthropic.Reply = (ctx, _) => Json(ctx, """{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}""");
        var o = await host.AddChannelAsync("o", ChannelType.OpenAI, [openai.Url + "/v1"], ["sk-upstream-openai-0001"]);
        var a = await host.AddChannelAsync("a", ChannelType.Anthropic, [anthropic.Url + "/v1"], ["sk-upstream-anthropic-01"]);
        await host.AddGroupAsync("emb", GroupMode.Failover, [Member(o)], Quick);
        await host.AddGroupAsync("claude", GroupMode.Failover, [Member(a)], Quick);
        var secret = await host.AddApiKeyAsync();

        var emb = await SdkClient.RunAsync("openai-proxy-embeddings", host.BaseUrl, secret, "emb");
        Assert.Equal([0.25, -0.5], emb.GetProperty("embedding").EnumerateArray().Select(e => e.GetDouble()));
        var text = await SdkClient.RunAsync("openai-proxy-transcription", host.BaseUrl, secret, "emb");
        Assert.Equal("hello from the transcript", text.GetProperty("text").GetString());
        var upload = openai.Requests.Single(r => r.Path == "/v1/audio/transcriptions");
        Assert.StartsWith("multipart/form-data; boundary=", upload.Headers["content-type"]);
        Assert.Contains("filename=\"speech.mp3\"", upload.Text);
        Assert.True(upload.Body.AsSpan().IndexOf(Enumerable.Repeat((byte)7, 50_000).ToArray()) >= 0, "the file's bytes arrive whole");

        var models = await SdkClient.RunAsync("anthropic-proxy-models", host.BaseUrl, secret, "claude");
        Assert.Equal("claude-sonnet-4-5", models.GetProperty("ids")[0].GetString());
        var seen = Assert.Single(anthropic.Requests);
        Assert.Equal("/v1/models", seen.Path);
        Assert.Equal("sk-upstream-anthropic-01", seen.Headers["x-api-key"]);
        Assert.False(seen.Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task Proxy_requests_are_logged_and_counted_as_proxy()
    {
        var (host, up, channel, client, _) = await SetupAsync();
        await using var _h = host;
        await using var _u = up;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/proxy/g/embeddings", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/proxy/g/models")).StatusCode);

        await RelayFailoverTests.WaitUntil(async () =>
            (await host.Get<RequestLogStore>().QueryAsync(new RequestLogFilter { Limit = 10 }, default)).Items.Count == 2, 10_000);
        var logs = (await host.Get<RequestLogStore>().QueryAsync(new RequestLogFilter { Limit = 10 }, default)).Items;
        Assert.All(logs, l =>
        {
            Assert.Equal("proxy", l.ProtocolIn);
            Assert.Equal("g", l.GroupName);
            Assert.Equal(channel.Id, l.ChannelId);
            Assert.Equal(200, l.Status);
        });
        Assert.Contains(logs, l => l.RequestedModel == "POST /proxy/g/embeddings");
        await host.Get<Octopus.Stats.StatsFlusher>().FlushAsync(default);
        var totals = await host.Get<StatsStore>().TotalsAsync(new StatsFilter(), default);
        Assert.Equal(2, totals.RequestsOk);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ProxyTestJson : System.Text.Json.Serialization.JsonSerializerContext;
