using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Octopus.Domain;

namespace Octopus.Relay;

/// <summary>Where and how a channel type is called: the path after the base URL and the auth header.</summary>
internal static class UpstreamRequest
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    // Endpoints come from the configuration (base URLs and member models), so the set is small; parsing a Uri on
    // every request cost more than the lookup. Cleared if a long-running instance ever collects too many.
    private static readonly ConcurrentDictionary<(ChannelType, string, string, bool, Routing.RelayOperation, bool), Uri> Endpoints = new();

    public static Uri Endpoint(ChannelType type, string baseUrl, string model, bool stream,
        Routing.RelayOperation op = Routing.RelayOperation.Generate, bool geminiBatch = false)
    {
        var key = (type, baseUrl, model, stream, op, geminiBatch);
        if (Endpoints.TryGetValue(key, out var uri)) return uri;
        if (Endpoints.Count >= 4096) Endpoints.Clear();
        return Endpoints[key] = BuildEndpoint(type, baseUrl, model, stream, op, geminiBatch);
    }

    private static Uri BuildEndpoint(ChannelType type, string baseUrl, string model, bool stream, Routing.RelayOperation op, bool geminiBatch)
    {
        var b = baseUrl.TrimEnd('/');
        if (op != Routing.RelayOperation.Generate)
        {
            return new Uri(type == ChannelType.Gemini
                ? b + "/models/" + Uri.EscapeDataString(model) + (geminiBatch ? ":batchEmbedContents" : ":embedContent")
                : b + (op == Routing.RelayOperation.Images ? "/images/generations" : "/embeddings"));
        }
        return new Uri(type switch
        {
            ChannelType.OpenAIResponses => b + "/responses",
            ChannelType.Anthropic => b + "/messages",
            ChannelType.Gemini => b + "/models/" + Uri.EscapeDataString(model) + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
            _ => b + "/chat/completions",
        });
    }

    /// <param name="clientHeaders">The client's request headers; only protocol headers (anthropic-version/beta) are forwarded.</param>
    public static HttpRequestMessage Create(Channel channel, string baseUrl, string model, bool stream, ChannelKey key, byte[] body, IHeaderDictionary? clientHeaders,
        Routing.RelayOperation op = Routing.RelayOperation.Generate, bool geminiBatch = false)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, Endpoint(channel.Type, baseUrl, model, stream, op, geminiBatch))
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        req.Content.Headers.ContentType = Json;
        AddAuth(req, channel.Type, key.Secret);
        if (channel.Type == ChannelType.Anthropic)
        {
            var version = clientHeaders?["anthropic-version"].ToString();
            req.Headers.TryAddWithoutValidation("anthropic-version", string.IsNullOrEmpty(version) ? "2023-06-01" : version);
            var beta = clientHeaders?["anthropic-beta"].ToString();
            if (!string.IsNullOrEmpty(beta)) req.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        }
        if (stream) req.Headers.Accept.ParseAdd("text/event-stream");
        foreach (var (name, value) in channel.Headers)
        {
            // Validated on save; re-checked here because a header is an injection point.
            if (name.AsSpan().IndexOfAny('\r', '\n') >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0) continue;
            req.Headers.Remove(name);
            if (!req.Headers.TryAddWithoutValidation(name, value)) req.Content.Headers.TryAddWithoutValidation(name, value);
        }
        return req;
    }

    public static void AddAuth(HttpRequestMessage req, ChannelType type, string secret)
    {
        switch (type)
        {
            case ChannelType.Anthropic:
                req.Headers.TryAddWithoutValidation("x-api-key", secret);
                break;
            case ChannelType.Gemini:
                req.Headers.TryAddWithoutValidation("x-goog-api-key", secret);
                break;
            default:
                req.Headers.TryAddWithoutValidation("Authorization", "Bearer " + secret);
                break;
        }
    }
}
