using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Octopus.Ui;

/// <summary>
/// Serves the embedded admin panel at `/`. It only answers requests no endpoint matched, so it can never
/// shadow a route; the API prefixes are left to their features (and get a 404 in their own error shape when
/// nothing handled them), never index.html.
/// </summary>
internal static class UiEndpoints
{
    /// <summary>Paths that belong to the gateway's APIs, not to the panel's client-side router.</summary>
    private static readonly string[] ReservedPrefixes = ["/v1beta", "/v1", "/api", "/proxy", "/metrics", "/healthz", "/readyz"];

    private const string ImmutableCache = "public, max-age=31536000, immutable";
    private const string RevalidateCache = "no-cache";
    // The panel loads only its own scripts and styles; inline styles come from Svelte and uPlot.
    private const string IndexCsp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication MapAdminUi(this WebApplication app) => app.MapAdminUi(UiAssetTable.FromAssembly(typeof(UiEndpoints).Assembly));

    public static WebApplication MapAdminUi(this WebApplication app, UiAssetTable table)
    {
        if (table.Index is null)
            app.Logger.LogWarning("The admin UI bundle is not embedded in this build; `/` shows a notice. Run scripts/build-ui.sh and rebuild.");
        app.Use(next => context => context.GetEndpoint() is null ? HandleAsync(context, table, next) : next(context));
        return app;
    }

    internal static async Task HandleAsync(HttpContext context, UiAssetTable table, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "/";
        var reserved = ReservedPrefix(path);
        if (reserved is not null)
        {
            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status404NotFound && !context.Response.HasStarted)
                await WriteApiNotFound(context, reserved, path);
            return;
        }

        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
            return;
        }

        if (!IsSafePath(path))
        {
            await WritePlain(context, StatusCodes.Status400BadRequest, "bad path");
            return;
        }

        if (path == "/") path = "/index.html";
        if (!table.TryGet(path, out var asset))
        {
            if (!WantsHtml(request))
            {
                await WritePlain(context, StatusCodes.Status404NotFound, "not found");
                return;
            }
            // SPA fallback: the client-side router owns every other page path.
            if (table.Index is not { } index)
            {
                await WritePlain(context, StatusCodes.Status503ServiceUnavailable,
                    "The admin UI is not built into this binary. Run scripts/build-ui.sh, then rebuild octopus.");
                return;
            }
            asset = index;
        }
        await WriteAsset(context, asset);
    }

    private static async Task WriteAsset(HttpContext context, UiAsset asset)
    {
        var coding = AcceptEncoding.Choose(context.Request.Headers.AcceptEncoding, asset.Gzip is not null, asset.Brotli is not null);
        var (body, encoding, etag) = asset.Select(coding);
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = etag;
        headers.CacheControl = asset.Immutable ? ImmutableCache : RevalidateCache;
        if (asset.HasVariants) headers.Vary = "Accept-Encoding";
        headers.XContentTypeOptions = "nosniff";
        if (asset.ContentType.StartsWith("text/html", StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy = IndexCsp;
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
        }

        if (NotModified(context.Request.Headers.IfNoneMatch, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = asset.ContentType;
        if (encoding is not null) headers.ContentEncoding = encoding;
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 §13.1.2): a `W/` prefix does not matter.</summary>
    internal static bool NotModified(StringValues ifNoneMatch, string etag)
    {
        foreach (var value in ifNoneMatch)
        {
            if (value is null) continue;
            foreach (var raw in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (raw == "*") return true;
                var tag = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
                if (tag == etag) return true;
            }
        }
        return false;
    }

    private static bool WantsHtml(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
            if (accept is not null && accept.Contains("text/html", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Kestrel already decodes and removes dot segments; anything still looking like a way out (encoded
    /// slashes, backslashes, dot segments, control characters) is refused outright. Lookups are exact keys in
    /// an in-memory table, so nothing outside the bundle is reachable either way.
    /// </summary>
    internal static bool IsSafePath(string path)
    {
        if (path.Length == 0 || path[0] != '/' || path.Length > 1024) return false;
        foreach (var c in path)
            if (c < 0x20 || c == '\\' || c == '%' || c == 0x7f) return false;
        foreach (var segment in path.Split('/'))
            if (segment is "." or "..") return false;
        return true;
    }

    internal static string? ReservedPrefix(string path)
    {
        foreach (var prefix in ReservedPrefixes)
        {
            if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && (path.Length == prefix.Length || path[prefix.Length] == '/'))
                return prefix;
        }
        return null;
    }

    private static Task WritePlain(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Response.WriteAsync(text + "\n");
    }

    /// <summary>A 404 shaped like the errors of the API the prefix belongs to, so SDKs can read it.</summary>
    private static async Task WriteApiNotFound(HttpContext context, string prefix, string path)
    {
        if (prefix is not ("/v1" or "/v1beta" or "/api" or "/proxy"))
        {
            await WritePlain(context, StatusCodes.Status404NotFound, "not found");
            return;
        }
        var message = $"No route for {context.Request.Method} {path}";
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            switch (prefix)
            {
                case "/v1":
                    // OpenAI's shape (Anthropic SDKs read error.message too).
                    w.WriteString("message", message);
                    w.WriteString("type", "invalid_request_error");
                    w.WriteString("code", "not_found");
                    break;
                case "/v1beta":
                    w.WriteNumber("code", 404);
                    w.WriteString("message", message);
                    w.WriteString("status", "NOT_FOUND");
                    break;
                default:
                    w.WriteString("code", "not_found");
                    w.WriteString("message", message);
                    break;
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}
