namespace Octopus.Protocols.Passthrough;

/// <summary>
/// A cheap well-formedness check for stream events passed through untouched: an event that is not one JSON object
/// would crash the client's SDK, so the relay treats it as an upstream failure instead of forwarding it. (Whole
/// replies are checked by <see cref="UsageJson.TryReadResponse"/> in the pass that reads their usage.)
/// </summary>
internal static class JsonShape
{
    /// <summary>
    /// Braces only, for stream events: a full parse of every event would add a JSON scan per event to every stream,
    /// while what upstreams really send broken (a truncated or garbled event) fails this check too.
    /// </summary>
    public static bool LooksLikeObject(ReadOnlySpan<byte> json)
    {
        json = json.Trim(" \t\r\n"u8);
        return json.Length >= 2 && json[0] == (byte)'{' && json[^1] == (byte)'}';
    }
}
