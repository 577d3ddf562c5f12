using Octopus.Domain;

namespace Octopus.Protocols;

/// <summary>A wire protocol, on the client side or the channel side.</summary>
internal enum ApiProtocol
{
    OpenAIChat,
    OpenAIResponses,
    Anthropic,
    Gemini,
}

internal static class ApiProtocols
{
    public static string ToWire(this ApiProtocol p) => p switch
    {
        ApiProtocol.OpenAIChat => "openai_chat",
        ApiProtocol.OpenAIResponses => "openai_responses",
        ApiProtocol.Anthropic => "anthropic",
        ApiProtocol.Gemini => "gemini",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static bool TryParse(string? value, out ApiProtocol protocol)
    {
        switch (value)
        {
            case "openai_chat": protocol = ApiProtocol.OpenAIChat; return true;
            case "openai_responses": protocol = ApiProtocol.OpenAIResponses; return true;
            case "anthropic": protocol = ApiProtocol.Anthropic; return true;
            case "gemini": protocol = ApiProtocol.Gemini; return true;
            default: protocol = default; return false;
        }
    }

    /// <summary>The protocol a channel type speaks. Volcengine is OpenAI Chat with quirks.</summary>
    public static ApiProtocol ProtocolOf(this ChannelType type) => type switch
    {
        ChannelType.OpenAI or ChannelType.Volcengine => ApiProtocol.OpenAIChat,
        ChannelType.OpenAIResponses => ApiProtocol.OpenAIResponses,
        ChannelType.Anthropic => ApiProtocol.Anthropic,
        ChannelType.Gemini => ApiProtocol.Gemini,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
