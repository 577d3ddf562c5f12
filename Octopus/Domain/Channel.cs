namespace Octopus.Domain;

/// <summary>An upstream provider account: where to send requests, with which keys, for which models.</summary>
internal sealed record Channel
{
    public long Id { get; init; }
    public required string Name { get; init; }
    public ChannelType Type { get; init; }
    public bool Enabled { get; init; } = true;
    /// <summary>Base URLs in the user's order, e.g. https://api.openai.com/v1. The type decides the path appended.</summary>
    public IReadOnlyList<ChannelBaseUrl> BaseUrls { get; init; } = [];
    public IReadOnlyList<ChannelKey> Keys { get; init; } = [];
    /// <summary>
    /// Further protocols the same account serves (e.g. an Anthropic-compatible path beside the OpenAI one), each
    /// with its own base URLs; the channel's type and base URLs stay its primary endpoint. Keys are shared.
    /// </summary>
    public IReadOnlyList<ChannelEndpoint> Endpoints { get; init; } = [];
    /// <summary>Models the user added by hand; always offered.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    /// <summary>Models found by the last model sync (after <see cref="ModelFilter"/>).</summary>
    public IReadOnlyList<string> SyncedModels { get; init; } = [];
    public bool AutoSync { get; init; }
    /// <summary>Optional regex; synced models not matching it are dropped.</summary>
    public string? ModelFilter { get; init; }
    /// <summary>Extra headers sent upstream on every request.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>Optional http://, https:// or socks5:// proxy URL for this channel's upstream traffic.</summary>
    public string? Proxy { get; init; }
    /// <summary>Optional JSON object merged into every upstream request body (top-level keys replace).</summary>
    public string? ParamOverride { get; init; }
    /// <summary>off | passive | set_aside_only | active</summary>
    public string ProbePolicy { get; init; } = "passive";
    /// <summary>Insert Anthropic cache_control breakpoints for clients that send none.</summary>
    public bool AddCacheBreakpoints { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}

internal sealed record ChannelBaseUrl
{
    public long Id { get; init; }
    public required string Url { get; init; }
}

/// <summary>One extra protocol of a multi-protocol channel: a channel type (which decides path and auth) and its base URLs.</summary>
internal sealed record ChannelEndpoint
{
    public ChannelType Type { get; init; }
    public IReadOnlyList<ChannelBaseUrl> BaseUrls { get; init; } = [];
}

internal sealed record ChannelKey
{
    public long Id { get; init; }
    public required string Secret { get; init; }
    public bool Enabled { get; init; } = true;
    /// <summary>active | set_aside. Cooling (429) is runtime-only state.</summary>
    public string Status { get; init; } = KeyStatus.Active;
    public string? StatusReason { get; init; }
    /// <summary>Unix milliseconds of the last status change.</summary>
    public long? StatusAt { get; init; }
    public string? Remark { get; init; }
}

internal static class KeyStatus
{
    public const string Active = "active";
    public const string SetAside = "set_aside";
}

internal enum ChannelType
{
    OpenAI,
    OpenAIResponses,
    Anthropic,
    Gemini,
    Volcengine,
}

internal static class ChannelTypes
{
    public static readonly string[] All = ["openai", "openai_responses", "anthropic", "gemini", "volcengine"];

    public static string ToWire(this ChannelType type) => type switch
    {
        ChannelType.OpenAI => "openai",
        ChannelType.OpenAIResponses => "openai_responses",
        ChannelType.Anthropic => "anthropic",
        ChannelType.Gemini => "gemini",
        ChannelType.Volcengine => "volcengine",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool TryParse(string? value, out ChannelType type)
    {
        switch (value)
        {
            case "openai": type = ChannelType.OpenAI; return true;
            case "openai_responses": type = ChannelType.OpenAIResponses; return true;
            case "anthropic": type = ChannelType.Anthropic; return true;
            case "gemini": type = ChannelType.Gemini; return true;
            case "volcengine": type = ChannelType.Volcengine; return true;
            default: type = default; return false;
        }
    }
}
