using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Octopus.Settings;
using Octopus.Domain;

namespace Octopus.Admin;

/// <summary>A call to a provider that failed; the message is safe to show (never the key).</summary>
internal sealed class UpstreamException(string message) : Exception(message);

/// <summary>
/// The admin side's own small upstream calls: a channel test (one minimal request in the channel's protocol) and
/// model listing for model sync. The relay has its own client; this one only needs to be correct, not fast.
/// </summary>
internal sealed class UpstreamClient(SettingsService settings)
{
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new();

    private HttpClient For(string? channelProxy)
    {
        var proxy = !string.IsNullOrWhiteSpace(channelProxy) ? channelProxy.Trim() : settings.Current.Proxy;
        return _clients.GetOrAdd(proxy, p =>
        {
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(15),
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                UseProxy = p.Length > 0,
                Proxy = p.Length > 0 ? new WebProxy(p) : null,
            };
            // Callers write to the database after the reply: they resume on the pool, not a socket thread.
            return new HttpClient(new Hosting.PoolResumingHandler(handler)) { Timeout = Timeout.InfiniteTimeSpan };
        });
    }

    /// <summary>Sends one tiny request with the channel's first enabled key to its first base URL.</summary>
    public async Task<ChannelTestReply> TestAsync(Channel channel, string model, CancellationToken ct)
    {
        var key = channel.Keys.FirstOrDefault(k => k.Enabled)?.Secret ?? channel.Keys.FirstOrDefault()?.Secret;
        var baseUrl = channel.BaseUrls.FirstOrDefault()?.Url;
        if (key is null || baseUrl is null)
            return new ChannelTestReply(false, 0, 0, model) { Error = key is null ? "the channel has no key" : "the channel has no base URL" };

        using var request = BuildTest(channel.Type, baseUrl.TrimEnd('/'), key, model);
        foreach (var (name, value) in channel.Headers) request.Headers.TryAddWithoutValidation(name, value);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await For(channel.Proxy).SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token);
            var latency = watch.ElapsedMilliseconds;
            var ok = response.IsSuccessStatusCode;
            string? error = null;
            if (!ok) error = Snippet(await response.Content.ReadAsStringAsync(cts.Token), key);
            return new ChannelTestReply(ok, (int)response.StatusCode, latency, model) { Error = error };
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new ChannelTestReply(false, 0, watch.ElapsedMilliseconds, model)
            {
                Error = e is OperationCanceledException ? "timed out after 60 s" : Snippet(e.Message, key),
            };
        }
    }

    private static HttpRequestMessage BuildTest(ChannelType type, string baseUrl, string key, string model)
    {
        string url;
        string body;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            switch (type)
            {
                case ChannelType.OpenAIResponses:
                    w.WriteString("model", model);
                    w.WriteString("input", "ping");
                    w.WriteNumber("max_output_tokens", 16);
                    break;
                case ChannelType.Anthropic:
                    w.WriteString("model", model);
                    w.WriteNumber("max_tokens", 8);
                    WriteUserMessages(w);
                    break;
                case ChannelType.Gemini:
                    w.WriteStartArray("contents");
                    w.WriteStartObject();
                    w.WriteString("role", "user");
                    w.WriteStartArray("parts");
                    w.WriteStartObject();
                    w.WriteString("text", "ping");
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteStartObject("generationConfig");
                    w.WriteNumber("maxOutputTokens", 8);
                    w.WriteEndObject();
                    break;
                default: // openai, volcengine: chat completions
                    w.WriteString("model", model);
                    WriteUserMessages(w);
                    w.WriteNumber("max_tokens", 8);
                    break;
            }
            w.WriteEndObject();
        }
        body = Encoding.UTF8.GetString(ms.ToArray());
        url = type switch
        {
            ChannelType.OpenAIResponses => baseUrl + "/responses",
            ChannelType.Anthropic => baseUrl + "/messages",
            ChannelType.Gemini => $"{baseUrl}/models/{Uri.EscapeDataString(model)}:generateContent?key={Uri.EscapeDataString(key)}",
            _ => baseUrl + "/chat/completions",
        };
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        Authorize(request, type, key);
        return request;
    }

    private static void WriteUserMessages(Utf8JsonWriter w)
    {
        w.WriteStartArray("messages");
        w.WriteStartObject();
        w.WriteString("role", "user");
        w.WriteString("content", "ping");
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void Authorize(HttpRequestMessage request, ChannelType type, string key)
    {
        switch (type)
        {
            case ChannelType.Anthropic:
                request.Headers.TryAddWithoutValidation("x-api-key", key);
                request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
                break;
            case ChannelType.Gemini:
                break; // key in the query string
            default:
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                break;
        }
    }

    /// <summary>Lists the provider's models (`GET {base}/models`), following pagination up to 20 pages.</summary>
    public async Task<List<string>> ListModelsAsync(ChannelType type, string baseUrl, string key, IReadOnlyDictionary<string, string>? headers, string? proxy, CancellationToken ct)
    {
        baseUrl = baseUrl.TrimEnd('/');
        var models = new List<string>();
        string? page = null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        for (var i = 0; i < 20; i++)
        {
            var url = type switch
            {
                ChannelType.Gemini => $"{baseUrl}/models?pageSize=1000&key={Uri.EscapeDataString(key)}" + (page is null ? "" : "&pageToken=" + Uri.EscapeDataString(page)),
                ChannelType.Anthropic => $"{baseUrl}/models?limit=1000" + (page is null ? "" : "&after_id=" + Uri.EscapeDataString(page)),
                _ => baseUrl + "/models",
            };
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            Authorize(request, type, key);
            if (headers is not null)
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            string text;
            int status;
            try
            {
                using var response = await For(proxy).SendAsync(request, cts.Token);
                status = (int)response.StatusCode;
                text = await response.Content.ReadAsStringAsync(cts.Token);
            }
            catch (HttpRequestException e)
            {
                throw new UpstreamException("cannot reach the provider: " + Snippet(e.Message, key));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new UpstreamException("the provider did not answer within 60 s");
            }
            if (status is < 200 or >= 300) throw new UpstreamException($"the provider answered {status}: {Snippet(text, key)}");

            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                page = null;
                if (type == ChannelType.Gemini)
                {
                    if (root.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array)
                        foreach (var m in list.EnumerateArray())
                            if (m.TryGetProperty("name", out var n) && n.GetString() is { } name)
                                models.Add(name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name);
                    if (root.TryGetProperty("nextPageToken", out var next) && next.GetString() is { Length: > 0 } token) page = token;
                }
                else
                {
                    if (root.TryGetProperty("data", out var list) && list.ValueKind == JsonValueKind.Array)
                        foreach (var m in list.EnumerateArray())
                            if (m.TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } name) models.Add(name);
                    if (type == ChannelType.Anthropic && root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True
                        && root.TryGetProperty("last_id", out var last) && last.GetString() is { Length: > 0 } lastId)
                        page = lastId;
                }
            }
            catch (JsonException)
            {
                throw new UpstreamException("the provider's model list is not JSON");
            }
            if (page is null) break;
        }
        return models.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string Snippet(string text, string key)
    {
        text = text.Replace(key, "***", StringComparison.Ordinal).Trim();
        return text.Length > 500 ? text[..500] + "…" : text;
    }
}
