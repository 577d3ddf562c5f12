using System.Text;
using Octopus.Ui;

namespace Octopus.Tests.Ui;

public sealed class UiAssetTableTests
{
    private static KeyValuePair<string, byte[]> File(string path, string text) => new(path, Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Precompressed_files_become_variants_of_their_original()
    {
        var js = new string('a', 500);
        var table = UiAssetTable.FromFiles([
            File("/index.html", "<html></html>"),
            File("/assets/app-1.js", js),
            File("/assets/app-1.js.gz", "gz"),
            File("/assets/app-1.js.br", "br"),
        ]);

        Assert.Equal(2, table.Count);
        Assert.True(table.TryGet("/assets/app-1.js", out var asset));
        Assert.Equal("gz", Encoding.UTF8.GetString(asset.Gzip!));
        Assert.Equal("br", Encoding.UTF8.GetString(asset.Brotli!));
        Assert.True(asset.Immutable);
        Assert.False(table.TryGet("/assets/app-1.js.gz", out _));
        Assert.False(table.Index!.Immutable);
    }

    [Fact]
    public void A_variant_larger_than_the_original_is_not_used()
    {
        var table = UiAssetTable.FromFiles([File("/a.svg", "<svg/>"), File("/a.svg.gz", "much longer than the original")]);

        Assert.True(table.TryGet("/a.svg", out var asset));
        Assert.Null(asset.Gzip);
        Assert.False(asset.HasVariants);
    }

    [Fact]
    public void A_gz_file_without_an_original_is_served_as_itself()
    {
        var table = UiAssetTable.FromFiles([File("/data.gz", "x")]);

        Assert.True(table.TryGet("/data.gz", out var asset));
        Assert.Equal("application/octet-stream", asset.ContentType);
    }

    [Fact]
    public void Etags_are_strong_quoted_and_follow_the_content()
    {
        var a = UiAssetTable.FromFiles([File("/x.js", "one")]);
        var b = UiAssetTable.FromFiles([File("/x.js", "two")]);
        a.TryGet("/x.js", out var x1);
        b.TryGet("/x.js", out var x2);

        Assert.StartsWith("\"", x1.ETag);
        Assert.EndsWith("\"", x1.ETag);
        Assert.NotEqual(x1.ETag, x2.ETag);
        Assert.Equal(x1.ETag[..^1] + "-br\"", new UiAsset { Path = "/x.js", Content = [1, 2, 3], Brotli = [1], ContentType = "x", ETag = x1.ETag }.Select(ContentCoding.Brotli).ETag);
    }

    [Fact]
    public void The_embedded_bundle_inflates_files_shipped_only_gzipped()
    {
        var text = new string('x', 4000);
        using var gz = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            z.Write(Encoding.UTF8.GetBytes(text));
        var table = UiAssetTable.FromFiles([new("/assets/a.js.gz", gz.ToArray()), File("/assets/a.js.br", "br")], inflateGzipOnly: true);

        Assert.Equal(1, table.Count);
        Assert.True(table.TryGet("/assets/a.js", out var asset));
        Assert.Equal(text, Encoding.UTF8.GetString(asset.Content));
        Assert.Equal(gz.ToArray(), asset.Gzip);
        Assert.Equal("text/javascript; charset=utf-8", asset.ContentType);
    }

    [Theory]
    [InlineData("/index.html", "text/html; charset=utf-8")]
    [InlineData("/assets/a.js", "text/javascript; charset=utf-8")]
    [InlineData("/assets/a.css", "text/css; charset=utf-8")]
    [InlineData("/favicon.svg", "image/svg+xml")]
    [InlineData("/icon.png", "image/png")]
    [InlineData("/font.woff2", "font/woff2")]
    [InlineData("/manifest.webmanifest", "application/manifest+json; charset=utf-8")]
    [InlineData("/unknown.bin", "application/octet-stream")]
    public void Content_types_follow_the_extension(string path, string expected) =>
        Assert.Equal(expected, ContentTypes.For(path));

    [Fact]
    public void The_embedded_bundle_has_an_index_and_compressed_scripts()
    {
        var table = UiAssetTable.FromAssembly(typeof(UiAssetTable).Assembly);

        Assert.NotNull(table.Index);
        var scripts = table.All.Where(a => a.Path.EndsWith(".js", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.NotNull(s.Brotli));
        Assert.All(scripts, s => Assert.NotNull(s.Gzip));
        // The build embeds scripts only compressed; the table inflates them for clients that accept neither coding.
        Assert.DoesNotContain(typeof(UiAssetTable).Assembly.GetManifestResourceNames(), n => n.EndsWith(".js", StringComparison.Ordinal));
        Assert.All(scripts, s => Assert.True(s.Content.Length > s.Gzip!.Length));
    }
}

public sealed class AcceptEncodingTests
{
    [Theory]
    [InlineData(null, "Identity")]
    [InlineData("", "Identity")]
    [InlineData("gzip", "Gzip")]
    [InlineData("br", "Brotli")]
    [InlineData("gzip, deflate, br, zstd", "Brotli")]
    [InlineData("br;q=0, gzip", "Gzip")]
    [InlineData("br;q=0.2, gzip;q=0.8", "Gzip")]
    [InlineData("gzip;q=0, br;q=0", "Identity")]
    [InlineData("*", "Brotli")]
    [InlineData("*;q=0", "Identity")]
    [InlineData("identity", "Identity")]
    [InlineData("deflate", "Identity")]
    [InlineData("GZIP", "Gzip")]
    [InlineData("br; q=1.0, gzip; q=1.0", "Brotli")]
    [InlineData("br;q=garbage, gzip", "Gzip")]
    public void Chooses_the_preferred_acceptable_coding(string? header, string expected) =>
        Assert.Equal(expected, AcceptEncoding.Choose(header, hasGzip: true, hasBrotli: true).ToString());

    [Fact]
    public void A_missing_variant_is_never_chosen()
    {
        Assert.Equal(ContentCoding.Gzip, AcceptEncoding.Choose("br, gzip", hasGzip: true, hasBrotli: false));
        Assert.Equal(ContentCoding.Identity, AcceptEncoding.Choose("br", hasGzip: true, hasBrotli: false));
        Assert.Equal(ContentCoding.Identity, AcceptEncoding.Choose("br, gzip", hasGzip: false, hasBrotli: false));
    }
}

public sealed class UiPathTests
{
    [Theory]
    [InlineData("/", true)]
    [InlineData("/assets/index-abc.js", true)]
    [InlineData("/channels", true)]
    [InlineData("/../etc/passwd", false)]
    [InlineData("/assets/./x.js", false)]
    [InlineData("/assets/..%2fx", false)]
    [InlineData("/a\\b", false)]
    [InlineData("/a\u0000b", false)]
    [InlineData("relative", false)]
    public void Only_plain_absolute_paths_are_looked_up(string path, bool safe) =>
        Assert.Equal(safe, UiEndpoints.IsSafePath(path));

    [Theory]
    [InlineData("/v1/chat/completions", "/v1")]
    [InlineData("/v1", "/v1")]
    [InlineData("/v1beta/models", "/v1beta")]
    [InlineData("/API/v1/x", "/api")]
    [InlineData("/metrics", "/metrics")]
    [InlineData("/v1x", null)]
    [InlineData("/apis", null)]
    [InlineData("/channels", null)]
    public void Api_prefixes_are_recognised_by_whole_segment(string path, string? prefix) =>
        Assert.Equal(prefix, UiEndpoints.ReservedPrefix(path));
}

public sealed class UiWithoutBundleTests
{
    [Fact]
    public async Task A_build_without_the_bundle_explains_how_to_build_it()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/";
        context.Request.Headers.Accept = "text/html";
        context.Response.Body = new MemoryStream();

        await UiEndpoints.HandleAsync(context, UiAssetTable.FromFiles([]), _ => Task.CompletedTask);

        Assert.Equal(503, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var text = new StreamReader(context.Response.Body).ReadToEnd();
        Assert.Contains("scripts/build-ui.sh", text);
    }
}
