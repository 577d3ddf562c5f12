using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octopus.Domain;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;

namespace Octopus.Tests.Faults;

/// <summary>
/// Bad input, table-driven across the client protocols: each gets its protocol's error shape with the right status,
/// never reaches an upstream, and leaves a complete log line (or none, for requests without a valid key) and no counts.
/// Path traversal on the static files is covered by <see cref="Ui.UiServingTests.Path_traversal_never_leaves_the_bundle"/>.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private RelayHost _host = null!;
    private MockUpstream _mock = null!;
    private string _key = "";
    private string _expired = "";
    private string _disabled = "";

    public async Task InitializeAsync()
    {
        _host = await StartAsync(c => c.MaxBodyMb = 1);
        _mock = await MockUpstream.StartAsync("up");
        var ch = await _host.AddChannelAsync("c", ChannelType.OpenAI, [_mock.BaseUrl]);
        await _host.AddGroupAsync("g", GroupMode.Failover, [Member(ch)]);
        _key = await _host.AddApiKeyAsync("good");
        _expired = await _host.AddApiKeyAsync("expired", k => k with { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds() });
        _disabled = await _host.AddApiKeyAsync("disabled", k => k with { Enabled = false });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _mock.DisposeAsync();
    }

    public enum Proto { OpenAI, Responses, Anthropic, Gemini }

    private static string PathFor(Proto p, string model = "g") => p switch
    {
        Proto.OpenAI => "/v1/chat/completions",
        Proto.Responses => "/v1/responses",
        Proto.Anthropic => "/v1/messages",
        _ => $"/v1beta/models/{model}:generateContent",
    };

    private static string ValidBody(Proto p, string model = "g") => p switch
    {
        Proto.OpenAI => $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""",
        Proto.Responses => $$"""{"model":"{{model}}","input":"hi"}""",
        Proto.Anthropic => $$"""{"model":"{{model}}","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""",
        _ => """{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""",
    };

    /// <summary>Sends with the key the way that protocol's SDK does (Bearer, x-api-key, x-goog-api-key).</summary>
    private async Task<(int Status, string Body, HttpResponseMessage Res)> SendAsync(Proto p, string body, string? key = null, string? path = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_host.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var req = new HttpRequestMessage(HttpMethod.Post, path ?? PathFor(p)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        key ??= _key;
        if (key.Length > 0)
        {
            switch (p)
            {
                case Proto.Anthropic: req.Headers.Add("x-api-key", key); break;
                case Proto.Gemini: req.Headers.Add("x-goog-api-key", key); break;
                default: req.Headers.Authorization = new("Bearer", key); break;
            }
        }
        var res = await http.SendAsync(req);
        return ((int)res.StatusCode, await res.Content.ReadAsStringAsync(), res);
    }

    /// <summary>Asserts the body is exactly the protocol's error shape with this status, and returns its message.</summary>
    private static string AssertErrorShape(Proto p, int status, string body)
    {
        var root = JsonNode.Parse(body)!.AsObject();
        switch (p)
        {
            case Proto.Anthropic:
                Assert.Equal("error", root["type"]!.GetValue<string>());
                Assert.Equal(Octopus.Protocols.ProtocolErrors.AnthropicType(status), root["error"]!["type"]!.GetValue<string>());
                return root["error"]!["message"]!.GetValue<string>();
            case Proto.Gemini:
                Assert.Equal(status, root["error"]!["code"]!.GetValue<int>());
                Assert.Equal(Octopus.Protocols.ProtocolErrors.GeminiStatus(status), root["error"]!["status"]!.GetValue<string>());
                return root["error"]!["message"]!.GetValue<string>();
            default:
                var error = root["error"]!.AsObject();
                Assert.True(error.ContainsKey("type") && error.ContainsKey("param") && error.ContainsKey("code"), body);
                return error["message"]!.GetValue<string>();
        }
    }

    /// <summary>Nothing reached the upstream, nothing was counted for a channel, and the log line (if any) is whole.</summary>
    private async Task AssertNothingHalfWrittenAsync(int status, bool logged)
    {
        Assert.Equal(0, _mock.Count);
        var pending = _host.Get<Octopus.Stats.StatsAggregator>().Pending();
        Assert.Equal(0, pending.Sum(d => d.RequestsOk));
        Assert.All(pending, d => Assert.Equal(0, d.ChannelId));
        var store = _host.Get<RequestLogStore>();
        if (!logged)
        {
            await Task.Delay(300); // the log writer batches every 200 ms
            Assert.Empty((await store.QueryAsync(new RequestLogFilter(), default)).Items);
            return;
        }
        await Relay.RelayFailoverTests.WaitUntil(async () => (await store.QueryAsync(new RequestLogFilter(), default)).Items.Count == 1);
        var log = (await store.QueryAsync(new RequestLogFilter(), default)).Items.Single();
        Assert.Equal(status, log.Status);
        Assert.False(string.IsNullOrEmpty(log.Error));
        Assert.Empty(log.Attempts);
        Assert.Equal(0, log.OutputTokens);
    }

    public static TheoryData<Proto> AllProtocols => new() { Proto.OpenAI, Proto.Responses, Proto.Anthropic, Proto.Gemini };

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public async Task Malformed_JSON_is_a_400_in_the_clients_protocol(Proto p)
    {
        var (status, body, _) = await SendAsync(p, """{"model":"g","messages":[{"role":"user","content":"hi"}""");
        Assert.Equal(400, status);
        Assert.Contains("JSON", AssertErrorShape(p, 400, body));
        await AssertNothingHalfWrittenAsync(400, logged: true);
    }

    [Theory]
    [InlineData(Proto.OpenAI, """{"model":"g","messages":"hi"}""")]
    [InlineData(Proto.OpenAI, """{"model":["g"],"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData(Proto.OpenAI, """{"model":"g","stream":"yes","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData(Proto.OpenAI, """["model","g"]""")]
    [InlineData(Proto.Responses, """{"model":42,"input":"hi"}""")]
    [InlineData(Proto.Anthropic, """{"model":"g","max_tokens":10,"messages":{"role":"user"}}""")]
    [InlineData(Proto.Anthropic, """{"model":"g","max_tokens":"ten","stream":1,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData(Proto.Gemini, """{"contents":"hi"}""")]
    [InlineData(Proto.Gemini, """"just a string"""")]
    public async Task Wrong_types_are_a_400_in_the_clients_protocol(Proto p, string json)
    {
        var (status, body, _) = await SendAsync(p, json);
        Assert.True(status == 400, $"{status}: {body}");
        AssertErrorShape(p, 400, body);
        await AssertNothingHalfWrittenAsync(400, logged: true);
    }

    [Theory]
    [InlineData(Proto.OpenAI)]
    [InlineData(Proto.Responses)]
    [InlineData(Proto.Anthropic)]
    public async Task Missing_model_is_a_400_that_says_what_to_send(Proto p)
    {
        var json = JsonNode.Parse(ValidBody(p))!.AsObject();
        json.Remove("model");
        var (status, body, _) = await SendAsync(p, json.ToJsonString());
        Assert.Equal(400, status);
        Assert.Contains("`model` is required", AssertErrorShape(p, 400, body));
        await AssertNothingHalfWrittenAsync(400, logged: true);
    }

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public async Task Unknown_model_is_a_404_naming_it(Proto p)
    {
        var (status, body, _) = await SendAsync(p, ValidBody(p, "no-such-group"), path: PathFor(p, "no-such-group"));
        Assert.Equal(404, status);
        Assert.Contains("'no-such-group' is not a group", AssertErrorShape(p, 404, body));
        await AssertNothingHalfWrittenAsync(404, logged: true);
    }

    [Theory]
    [MemberData(nameof(AllProtocols))]
    public async Task A_body_over_server_max_body_mb_is_a_413_naming_the_setting(Proto p)
    {
        // 1.5 MiB of prompt against server.max_body_mb = 1.
        var big = new string('a', 1536 * 1024);
        var json = p == Proto.Gemini
            ? $$"""{"contents":[{"role":"user","parts":[{"text":"{{big}}"}]}]}"""
            : ValidBody(p).Replace("\"hi\"", $"\"{big}\"");
        var (status, body, _) = await SendAsync(p, json);
        Assert.Equal(413, status);
        var message = AssertErrorShape(p, 413, body);
        Assert.Contains("server.max_body_mb", message);
        Assert.Contains("1 MiB", message);
        await AssertNothingHalfWrittenAsync(413, logged: true);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_a_413_too()
    {
        using var http = _host.ClientFor(_key);
        var content = new PushStreamContent(async s =>
        {
            await s.WriteAsync("{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\""u8.ToArray());
            var block = Encoding.ASCII.GetBytes(new string('b', 64 * 1024));
            for (var i = 0; i < 24; i++) await s.WriteAsync(block); // 1.5 MiB, no Content-Length
            await s.WriteAsync("\"}]}"u8.ToArray());
        });
        var res = await http.PostAsync("/v1/chat/completions", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        Assert.Contains("server.max_body_mb", AssertErrorShape(Proto.OpenAI, 413, await res.Content.ReadAsStringAsync()));
        await AssertNothingHalfWrittenAsync(413, logged: true);
    }

    private sealed class PushStreamContent(Func<Stream, Task> write) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => write(stream);
        protected override bool TryComputeLength(out long length) { length = -1; return false; }
    }

    public static TheoryData<Proto, string> KeyCases()
    {
        var data = new TheoryData<Proto, string>();
        foreach (var p in new[] { Proto.OpenAI, Proto.Responses, Proto.Anthropic, Proto.Gemini })
            foreach (var k in new[] { "missing", "wrong", "expired", "disabled" })
                data.Add(p, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(KeyCases))]
    public async Task A_missing_wrong_expired_or_disabled_key_is_a_401_in_the_clients_protocol(Proto p, string which)
    {
        var key = which switch { "missing" => "", "wrong" => "sk-oct-not-a-key", "expired" => _expired, _ => _disabled };
        var (status, body, res) = await SendAsync(p, ValidBody(p), key);
        Assert.Equal(401, status);
        var message = AssertErrorShape(p, 401, body);
        Assert.Contains(which switch { "missing" => "missing API key", "wrong" => "invalid API key", "expired" => "expired", _ => "disabled" }, message);
        Assert.DoesNotContain(key.Length > 0 ? key : "sk-oct-", body);
        if (p is Proto.OpenAI or Proto.Responses) Assert.Equal("invalid_api_key", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        // Requests without a valid key are not charged or logged against anyone.
        await AssertNothingHalfWrittenAsync(401, logged: false);
        Assert.Empty(_host.Get<Octopus.Stats.StatsAggregator>().Pending());
    }

    [Fact]
    public async Task Oversize_request_headers_are_refused_with_431()
    {
        // Raw bytes: 70 KiB of headers, past Kestrel's 64 KiB limit.
        using var tcp = new TcpClient();
        var uri = new Uri(_host.BaseUrl);
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        var head = new StringBuilder($"POST /v1/chat/completions HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {_key}\r\n");
        for (var i = 0; i < 70; i++) head.Append($"X-Pad-{i}: {new string('p', 1024)}\r\n");
        head.Append("Content-Length: 2\r\n\r\n{}");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        var buffer = new byte[4096];
        var n = await stream.ReadAsync(buffer);
        Assert.StartsWith("HTTP/1.1 431", Encoding.ASCII.GetString(buffer, 0, n));
        await AssertNothingHalfWrittenAsync(431, logged: false);
    }
}
