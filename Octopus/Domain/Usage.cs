namespace Octopus.Domain;

/// <summary>
/// Token usage in one convention for every protocol: <see cref="InputTokens"/> counts ALL prompt tokens,
/// cached ones included (OpenAI's prompt_tokens); cache read/write are parts of it. Anthropic's input_tokens
/// (which excludes cache) is converted on the way in. <see cref="OutputTokens"/> includes reasoning tokens.
/// </summary>
internal struct Usage
{
    public long InputTokens;
    public long OutputTokens;
    public long CacheReadTokens;
    public long CacheWriteTokens;
    public long ReasoningTokens;
    /// <summary>Images generated (image requests only): priced per image when the model has a per-image price.</summary>
    public long Images;

    /// <summary>Input tokens billed at the plain input price.</summary>
    public readonly long UncachedInputTokens => Math.Max(0, InputTokens - CacheReadTokens - CacheWriteTokens);

    public readonly bool IsEmpty => InputTokens == 0 && OutputTokens == 0 && CacheReadTokens == 0 && CacheWriteTokens == 0;
}
