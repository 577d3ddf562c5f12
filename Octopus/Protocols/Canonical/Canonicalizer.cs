namespace Octopus.Protocols.Canonical;

/// <summary>Small normalisations every decoder applies so encoders see one shape.</summary>
internal static class Canonicalizer
{
    /// <summary>
    /// A Gemini function-call signature travels through Anthropic and Responses clients as an empty thinking block
    /// right before the call (those protocols have no field on the call itself); put it back on the call.
    /// </summary>
    public static void AttachCallSignatures(List<Message> messages)
    {
        foreach (var m in messages)
        {
            if (m.Role != Role.Assistant) continue;
            for (var i = 0; i + 1 < m.Parts.Count; i++)
            {
                if (m.Parts[i] is ThinkingPart { Text.Length: 0, Origin: ApiProtocol.Gemini, Redacted: false, Signature: { } sig }
                    && m.Parts[i + 1] is ToolCallPart { ThoughtSignature: null } call)
                {
                    call.ThoughtSignature = sig;
                    m.Parts.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Function names by call id, for targets whose tool results name the function (Gemini).</summary>
    public static Dictionary<string, string> ToolNamesById(List<Message> messages)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in messages)
            foreach (var p in m.Parts)
                if (p is ToolCallPart call) names[call.Id] = call.Name;
        return names;
    }

    public static string JoinText(IEnumerable<Part> parts, string separator)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var p in parts)
        {
            var text = p switch { TextPart t => t.Text, RefusalPart r => r.Text, DocumentPart { Text: { } d } => d, _ => null };
            if (string.IsNullOrEmpty(text)) continue;
            if (sb.Length > 0) sb.Append(separator);
            sb.Append(text);
        }
        return sb.ToString();
    }
}
