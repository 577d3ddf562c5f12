using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Octopus.Admin;

/// <summary>
/// A request body read as a JSON object against a known field list. Every problem (unknown field, wrong type, bad
/// value) is collected under its field path so one 400 names them all. `null` counts as absent.
/// </summary>
internal sealed class JsonInput
{
    /// <summary>Admin request bodies are small; backup import lifts this to server.max_body_mb.</summary>
    public const long DefaultMaxBytes = 8 * 1024 * 1024;

    private readonly JsonElement _root;
    public Dictionary<string, string> Errors { get; }
    public string Prefix { get; }

    private JsonInput(JsonElement root, Dictionary<string, string> errors, string prefix)
    {
        _root = root;
        Errors = errors;
        Prefix = prefix;
    }

    public bool IsValid => Errors.Count == 0;

    /// <summary>Parses the body; returns the error result instead when it is not a JSON object or too big.</summary>
    public static async Task<(JsonInput? Input, IResult? Error)> ReadAsync(HttpContext ctx, string[] known, long maxBytes = DefaultMaxBytes)
    {
        var limit = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false } && (limit.MaxRequestBodySize is null || limit.MaxRequestBodySize > maxBytes)) limit.MaxRequestBodySize = maxBytes;
        if (ctx.Request.ContentLength > maxBytes) return (null, TooLarge(maxBytes));
        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(ctx.Request.Body, new JsonDocumentOptions { MaxDepth = 64 }, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            return (null, ApiResults.Error(400, "invalid_json", $"request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return (null, TooLarge(maxBytes));
        }
        // The document lives for the request.
        ctx.Response.RegisterForDispose(doc);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            return (null, ApiResults.Error(400, "invalid_json", "request body must be a JSON object"));
        var input = new JsonInput(doc.RootElement, [], "");
        input.RejectUnknown(known);
        return (input, null);
    }

    /// <summary>Like <see cref="ReadAsync"/>, but an empty body reads as an empty object.</summary>
    public static Task<(JsonInput? Input, IResult? Error)> ReadOptionalAsync(HttpContext ctx, string[] known)
    {
        var canHaveBody = ctx.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (ctx.Request.ContentLength == 0 || !canHaveBody)
            return Task.FromResult<(JsonInput?, IResult?)>((new JsonInput(EmptyObject, [], ""), null));
        return ReadAsync(ctx, known);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static IResult TooLarge(long maxBytes) =>
        ApiResults.Error(413, "payload_too_large", $"request body is larger than {maxBytes / (1024 * 1024)} MiB");

    /// <summary>A nested object at `field`, sharing this error list (paths like `members[2].weight`).</summary>
    public JsonInput Nested(JsonElement element, string path, string[] known)
    {
        var n = new JsonInput(element, Errors, path);
        n.RejectUnknown(known);
        return n;
    }

    public string Path(string field) => Prefix.Length == 0 ? field : Prefix + "." + field;

    public void Fail(string field, string problem) => Errors.TryAdd(Path(field), problem);

    private void RejectUnknown(string[] known)
    {
        foreach (var p in _root.EnumerateObject())
            if (Array.IndexOf(known, p.Name) < 0) Errors.TryAdd(Path(p.Name), "unknown field");
    }

    /// <summary>Present and not null.</summary>
    public bool Has(string field) => _root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Present, possibly null (for fields where null means "clear").</summary>
    public bool Present(string field) => _root.TryGetProperty(field, out _);

    public JsonElement? Element(string field) => _root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string field, bool required = false, bool allowEmpty = false, int maxLength = 4096)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String) { Fail(field, "must be a string"); return null; }
        var s = v.GetString()!;
        if (!allowEmpty && s.Trim().Length == 0) { Fail(field, "must not be empty"); return null; }
        if (s.Length > maxLength) { Fail(field, $"must be at most {maxLength} characters"); return null; }
        return s;
    }

    public long? Long(string field, long min = long.MinValue, long max = long.MaxValue, bool required = false)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) { Fail(field, "must be an integer"); return null; }
        if (n < min) { Fail(field, min == 0 ? "must not be negative" : $"must be at least {min}"); return null; }
        if (n > max) { Fail(field, $"must be at most {max}"); return null; }
        return n;
    }

    public int? Int(string field, int min = int.MinValue, int max = int.MaxValue, bool required = false) =>
        (int?)Long(field, min, max, required);

    public double? Double(string field, double min = double.MinValue, bool required = false)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d)) { Fail(field, "must be a number"); return null; }
        if (d < min) { Fail(field, min == 0 ? "must not be negative" : $"must be at least {min}"); return null; }
        return d;
    }

    public bool? Bool(string field)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is JsonValueKind.True) return true;
        if (v.ValueKind is JsonValueKind.False) return false;
        Fail(field, "must be true or false");
        return null;
    }

    /// <summary>An array of non-empty strings.</summary>
    public List<string>? StringList(string field, bool required = false, bool allowEmptyItems = false)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Array) { Fail(field, "must be an array of strings"); return null; }
        var list = new List<string>();
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) Fail($"{field}[{i}]", "must be a string");
            else if (!allowEmptyItems && item.GetString()!.Trim().Length == 0) Fail($"{field}[{i}]", "must not be empty");
            else list.Add(item.GetString()!);
            i++;
        }
        return list;
    }

    public Dictionary<string, string>? StringMap(string field)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) { Fail(field, "must be an object of strings"); return null; }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) Fail($"{field}.{p.Name}", "must be a string");
            else map[p.Name] = p.Value.GetString()!;
        }
        return map;
    }

    /// <summary>
    /// Extra HTTP headers to send upstream: names must be header tokens, values free of CR, LF and NUL (a line break
    /// would let a value smuggle in headers or a second request), and the framing headers are the relay's own.
    /// </summary>
    public Dictionary<string, string>? HeaderMap(string field)
    {
        var map = StringMap(field);
        if (map is null) return null;
        foreach (var (name, value) in map)
        {
            if (name.Length == 0 || name.Length > 256 || !name.All(IsTokenChar)) Fail($"{field}.{name}", "is not a valid HTTP header name");
            else if (FramingHeaders.Contains(name)) Fail($"{field}.{name}", "is set by the gateway itself and cannot be overridden");
            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0) Fail($"{field}.{name}", "must not contain line breaks or NUL");
            else if (value.Length > 8192) Fail($"{field}.{name}", "must be at most 8192 characters");
        }
        return map;
    }

    private static readonly HashSet<string> FramingHeaders = new(StringComparer.OrdinalIgnoreCase)
        { "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive" };

    private static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>RFC 3339 string or unix ms number; null when absent or null.</summary>
    public long? Time(string field)
    {
        if (!_root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var ms)) return ms;
        if (v.ValueKind == JsonValueKind.String && Times.TryParse(v.GetString(), out ms)) return ms;
        Fail(field, "must be an RFC 3339 time or unix milliseconds");
        return null;
    }

    /// <summary>An absolute http(s) URL.</summary>
    public static bool IsHttpUrl(string s) =>
        Uri.TryCreate(s.Trim(), UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.Host.Length > 0;

    public static bool IsProxyUrl(string s) =>
        Uri.TryCreate(s.Trim(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "socks5" or "socks5h" or "socks4" && u.Host.Length > 0;

    public static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
