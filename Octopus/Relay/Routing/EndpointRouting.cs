using Octopus.Domain;
using Octopus.Protocols;

namespace Octopus.Relay.Routing;

/// <summary>What a relayed request asks for: a generation (chat, responses, messages, generateContent), embeddings, or images.</summary>
internal enum RelayOperation
{
    Generate,
    Embeddings,
    Images,
}

/// <summary>
/// Which endpoint of a (possibly multi-protocol) channel serves a request. A channel's views are the channel itself
/// (its type and base URLs) and one copy per extra endpoint with that endpoint's type and base URLs, so the rest
/// of the relay keeps treating "a channel" as one type with one list of URLs.
/// </summary>
internal static class EndpointRouting
{
    /// <summary>The channel and one view per extra endpoint, primary first.</summary>
    public static Channel[] Views(Channel c)
    {
        if (c.Endpoints.Count == 0) return [c];
        var views = new Channel[c.Endpoints.Count + 1];
        views[0] = c;
        for (var i = 0; i < c.Endpoints.Count; i++)
            views[i + 1] = c with { Type = c.Endpoints[i].Type, BaseUrls = c.Endpoints[i].BaseUrls, Endpoints = [] };
        return views;
    }

    /// <summary>
    /// Generation: the view speaking the client's protocol (bytes pass through), else the primary (converted).
    /// Embeddings: an OpenAI-style view for OpenAI clients and a Gemini one for Gemini clients, else the other.
    /// Images: OpenAI-style views only. null = the channel cannot serve the operation.
    /// </summary>
    public static Channel? Pick(Channel[] views, ApiProtocol client, RelayOperation op)
    {
        switch (op)
        {
            case RelayOperation.Generate:
                foreach (var v in views)
                    if (v.Type.ProtocolOf() == client) return v;
                return views[0];
            case RelayOperation.Embeddings:
                var preferGemini = client == ApiProtocol.Gemini;
                return First(views, preferGemini ? IsGemini : IsOpenAIStyle) ?? First(views, preferGemini ? IsOpenAIStyle : IsGemini);
            default:
                return First(views, IsOpenAIStyle);
        }
    }

    /// <summary>OpenAI-compatible accounts serve /embeddings and /images/generations beside their chat path.</summary>
    public static bool IsOpenAIStyle(Channel c) => c.Type is ChannelType.OpenAI or ChannelType.OpenAIResponses or ChannelType.Volcengine;

    private static bool IsGemini(Channel c) => c.Type == ChannelType.Gemini;

    private static Channel? First(Channel[] views, Func<Channel, bool> match)
    {
        foreach (var v in views)
            if (match(v)) return v;
        return null;
    }
}
