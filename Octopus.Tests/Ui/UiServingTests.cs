using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Octopus.Tests.Ui;

/// <summary>The embedded admin panel as a browser sees it, over real HTTP.</summary>
public sealed partial class UiServingTests(UiServerFixture server) : IClassFixture<UiServerFixture>
{
    private HttpClient Client => server.Client;

    private static HttpRequestMessage Get(string path, string? accept = null, string? acceptEncoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        if (acceptEncoding is not null) request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        return request;
    }

    private async Task<string> IndexHtml()
    {
        using var response = await Client.SendAsync(Get("/"));
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The entry script named by index.html, e.g. /assets/index-AbC123.js.</summary>
    private async Task<string> EntryScript()
    {
        var match = ScriptSrc().Match(await IndexHtml());
        Assert.True(match.Success, "index.html names no /assets/*.js entry script");
        return match.Groups[1].Value;
    }

    private async Task<string> Stylesheet()
    {
        var match = StylesheetHref().Match(await IndexHtml());
        Assert.True(match.Success, "index.html names no /assets/*.css stylesheet");
        return match.Groups[1].Value;
    }

    [Fact]
    public async Task Root_serves_index_html_that_must_be_revalidated()
    {
        using var response = await Client.SendAsync(Get("/", "text/html"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Contains("nosniff", response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<div id=\"app\">", html);
    }

    [Fact]
    public async Task Hashed_script_is_served_as_javascript_with_immutable_long_cache()
    {
        var script = await EntryScript();

        using var response = await Client.SendAsync(Get(script));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
        Assert.NotNull(response.Content.Headers.ContentLength);
        Assert.True(response.Content.Headers.ContentLength > 1000);
    }

    [Fact]
    public async Task Stylesheet_and_icon_have_their_content_types()
    {
        using var css = await Client.SendAsync(Get(await Stylesheet()));
        using var svg = await Client.SendAsync(Get("/favicon.svg"));

        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", svg.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Matching_If_None_Match_returns_304_without_a_body()
    {
        var script = await EntryScript();
        using var first = await Client.SendAsync(Get(script));
        var etag = first.Headers.ETag!;

        using var again = Get(script);
        again.Headers.IfNoneMatch.Add(etag);
        using var revalidated = await Client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(etag, revalidated.Headers.ETag);
        Assert.Equal("public, max-age=31536000, immutable", revalidated.Headers.CacheControl?.ToString());
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Weak_form_of_the_etag_also_revalidates_index_html()
    {
        using var first = await Client.SendAsync(Get("/"));
        var tag = first.Headers.ETag!.Tag;

        using var again = Get("/");
        again.Headers.TryAddWithoutValidation("If-None-Match", "\"other\", W/" + tag);
        using var revalidated = await Client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task Stale_etag_gets_the_full_file()
    {
        using var request = Get("/");
        request.Headers.TryAddWithoutValidation("If-None-Match", "\"stale\"");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Brotli_is_sent_when_accepted_and_decodes_to_the_identity_bytes()
    {
        var script = await EntryScript();
        using var plain = await Client.SendAsync(Get(script));
        var identity = await plain.Content.ReadAsByteArrayAsync();

        using var response = await Client.SendAsync(Get(script, acceptEncoding: "gzip, deflate, br"));

        Assert.Equal(["br"], response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        var compressed = await response.Content.ReadAsByteArrayAsync();
        Assert.True(compressed.Length < identity.Length);
        Assert.Equal(compressed.Length, response.Content.Headers.ContentLength);
        using var decoder = new BrotliStream(new MemoryStream(compressed), CompressionMode.Decompress);
        var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        Assert.Equal(identity, decoded.ToArray());
        Assert.NotEqual(plain.Headers.ETag, response.Headers.ETag);
    }

    [Fact]
    public async Task Gzip_is_sent_to_clients_without_brotli()
    {
        var script = await EntryScript();
        using var plain = await Client.SendAsync(Get(script));
        var identity = await plain.Content.ReadAsByteArrayAsync();

        using var response = await Client.SendAsync(Get(script, acceptEncoding: "gzip"));

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        using var decoder = new GZipStream(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), CompressionMode.Decompress);
        var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        Assert.Equal(identity, decoded.ToArray());
    }

    [Fact]
    public async Task Brotli_refused_with_q0_falls_back_to_gzip()
    {
        using var response = await Client.SendAsync(Get(await EntryScript(), acceptEncoding: "br;q=0, gzip;q=0.5"));

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task No_accept_encoding_gets_identity_with_vary()
    {
        using var response = await Client.SendAsync(Get(await EntryScript()));

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
    }

    [Fact]
    public async Task Compressed_variant_revalidates_with_its_own_etag()
    {
        var script = await EntryScript();
        using var first = await Client.SendAsync(Get(script, acceptEncoding: "br"));

        using var again = Get(script, acceptEncoding: "br");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var revalidated = await Client.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Contains("Accept-Encoding", revalidated.Headers.Vary);
    }

    [Theory]
    [InlineData("/channels")]
    [InlineData("/logs")]
    [InlineData("/settings/")]
    [InlineData("/some/deep/client/route")]
    public async Task Client_routes_fall_back_to_index_html_for_browsers(string path)
    {
        var index = await IndexHtml();

        using var response = await Client.SendAsync(Get(path, "text/html,application/xhtml+xml,*/*;q=0.8"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(index, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Missing_asset_is_404_not_index_html()
    {
        using var response = await Client.SendAsync(Get("/assets/missing-0000.js", "*/*"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/api/v1/nothing-here", "application/json")]
    [InlineData("/api", "application/json")]
    [InlineData("/v1/nothing-here", "application/json")]
    [InlineData("/v1beta/nothing", "application/json")]
    [InlineData("/proxy", "application/json")] // /proxy/{group}/... is the transparent proxy (401 without a key)
    [InlineData("/metrics/nothing", "text/plain")]
    [InlineData("/healthz/nothing", "text/plain")]
    [InlineData("/readyz/nothing", "text/plain")]
    public async Task Api_prefixes_are_never_shadowed_by_the_panel(string path, string mediaType)
    {
        using var response = await Client.SendAsync(Get(path, "text/html,*/*"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<html", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unknown_admin_api_route_404s_in_the_admin_error_shape()
    {
        using var response = await Client.SendAsync(Get("/api/v1/nothing-here", "application/json"));

        var body = await response.Content.ReadAsStringAsync();
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal("not_found", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("/api/v1/nothing-here", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Unknown_gemini_route_404s_in_the_gemini_error_shape()
    {
        using var response = await Client.SendAsync(Get("/v1beta/nothing"));

        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(404, doc.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("NOT_FOUND", doc.RootElement.GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Routes_mapped_by_features_still_answer()
    {
        using var response = await Client.SendAsync(Get("/healthz", "text/html"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"ok\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/v1/test-only")]
    [InlineData("/channels/feature-route")]
    public async Task Feature_routes_win_over_the_panel_even_under_client_paths(string path)
    {
        using var response = await Client.SendAsync(Get(path, "text/html"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("feature", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Wrong_method_on_a_feature_route_stays_405()
    {
        using var response = await Client.PostAsync("/api/v1/test-only", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Head_returns_the_headers_without_a_body()
    {
        var script = await EntryScript();
        using var get = await Client.SendAsync(Get(script));

        using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, script));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Post_to_a_panel_path_is_405()
    {
        using var response = await Client.PostAsync("/channels", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/../../../../etc/passwd")]
    [InlineData("/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/assets/..%2f..%2f..%2f..%2fetc%2fpasswd")]
    [InlineData("/assets/%2e%2e%5c%2e%2e%5cOctopus.csproj")]
    [InlineData("/assets/..\\..\\Octopus.csproj")]
    [InlineData("/./assets/../../Octopus/Octopus.csproj")]
    public async Task Path_traversal_never_leaves_the_bundle(string rawTarget)
    {
        // Raw bytes on a socket: HttpClient would normalise the dot segments before sending.
        foreach (var accept in new[] { "*/*", "text/html" })
        {
            var (status, headers, body) = await RawGet(rawTarget, accept);

            Assert.DoesNotContain("root:", body);
            Assert.DoesNotContain("<Project", body);
            if (status == 200)
            {
                // Only the panel itself may come back (SPA fallback after Kestrel removed the dot segments).
                Assert.Contains("content-type: text/html", headers, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("<div id=\"app\">", body);
            }
            else
            {
                Assert.True(status is 400 or 404, $"{rawTarget} gave {status}");
            }
        }
    }

    private async Task<(int Status, string Headers, string Body)> RawGet(string target, string accept)
    {
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port, cts.Token);
        var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cts.Token);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var status = int.Parse(head.Split(' ')[1]);
        return (status, head, split < 0 ? "" : text[(split + 4)..]);
    }

    [GeneratedRegex("<script[^>]+src=\"(/assets/[^\"]+\\.js)\"")]
    private static partial Regex ScriptSrc();

    [GeneratedRegex("<link[^>]+href=\"(/assets/[^\"]+\\.css)\"")]
    private static partial Regex StylesheetHref();
}
