using System.Text.Json;

namespace Octopus.Protocols.Passthrough;

/// <summary>
/// A cheap well-formedness check for bytes passed through untouched: a reply or stream event that is not one JSON
/// object would crash the client's SDK, so the relay treats it as an upstream failure instead of forwarding it.
/// </summary>
internal static class JsonShape
{
    public static bool IsObject(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            // Exactly one value: trailing bytes other than whitespace are refused by the reader itself.
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

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
