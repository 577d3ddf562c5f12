using System.Text.Json;
using Octopus.Protocols.Conversion;

namespace Octopus.Protocols.Passthrough;

/// <summary>
/// One forward pass of Utf8JsonReader over a request body: the top-level fields the relay routes on, without
/// materialising the (often huge) message history.
/// </summary>
internal static class RequestInspector
{
    public static RequestInfo Inspect(ApiProtocol protocol, ReadOnlySpan<byte> body)
    {
        var info = new RequestInfo();
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new ProtocolException("request body must be a JSON object");
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    info.ObjectEnd = (int)reader.TokenStartIndex;
                    break;
                }
                if (reader.TokenType != JsonTokenType.PropertyName) throw new ProtocolException("malformed JSON object");
                if (reader.ValueTextEquals("model"u8)) ReadModel(ref reader, info);
                else if (reader.ValueTextEquals("stream"u8)) info.Stream = ReadBool(ref reader, "stream");
                else if (reader.ValueTextEquals("stream_options"u8)) ReadStreamOptions(ref reader, info);
                else if (reader.ValueTextEquals("tools"u8)) ReadTools(ref reader, info);
                else if (reader.ValueTextEquals("metadata"u8)) ReadMetadata(ref reader, info);
                else if (reader.ValueTextEquals("prompt_cache_key"u8)) ReadHint(ref reader, info, priority: true);
                else if (reader.ValueTextEquals("user"u8)) ReadHint(ref reader, info, priority: false);
                else if (reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("reasoning"u8) || reader.ValueTextEquals("reasoning_effort"u8))
                {
                    reader.Read();
                    info.Thinking |= reader.TokenType is JsonTokenType.StartObject or JsonTokenType.String && !IsDisabledThinking(ref reader);
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("generationConfig"u8) || reader.ValueTextEquals("generation_config"u8)) ReadGenerationConfig(ref reader, info);
                else if (reader.ValueTextEquals("system"u8) || reader.ValueTextEquals("instructions"u8) || reader.ValueTextEquals("systemInstruction"u8) || reader.ValueTextEquals("system_instruction"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    info.SystemRange = start..(int)reader.BytesConsumed;
                }
                else if (reader.ValueTextEquals("messages"u8)) ReadMessages(ref reader, info, "messages");
                else if (reader.ValueTextEquals("contents"u8)) ReadMessages(ref reader, info, "contents");
                else if (reader.ValueTextEquals("input"u8)) ReadMessages(ref reader, info, "input");
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw new ProtocolException($"request body is not valid JSON: {e.Message}");
        }
        return info;
    }

    private static void ReadModel(ref Utf8JsonReader reader, RequestInfo info)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String) throw new ProtocolException("`model` must be a string");
        var start = (int)reader.TokenStartIndex;
        info.Model = reader.GetString();
        info.ModelRange = start..(int)reader.BytesConsumed;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False or JsonTokenType.Null => false,
            _ => throw new ProtocolException($"`{name}` must be a boolean"),
        };
    }

    private static void ReadStreamOptions(ref Utf8JsonReader reader, RequestInfo info)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject) throw new ProtocolException("`stream_options` must be an object");
        info.HasStreamOptions = true;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("include_usage"u8))
                info.IncludeUsage = ReadBool(ref reader, "stream_options.include_usage");
            else if (reader.TokenType == JsonTokenType.PropertyName)
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadTools(ref Utf8JsonReader reader, RequestInfo info)
    {
        reader.Read();
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }
        var depth = reader.CurrentDepth;
        var count = 0;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            count++;
            reader.Skip();
        }
        info.HasTools = count > 0;
        info.ToolsBytes = (int)reader.BytesConsumed - start;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, RequestInfo info)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            if (reader.ValueTextEquals("user_id"u8)) ReadHint(ref reader, info, priority: true);
            else { reader.Read(); reader.Skip(); }
        }
    }

    private static void ReadHint(ref Utf8JsonReader reader, RequestInfo info, bool priority)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String && (priority || info.SessionHint is null))
        {
            var value = reader.GetString();
            if (!string.IsNullOrEmpty(value)) info.SessionHint = value;
        }
        else reader.Skip();
    }

    private static bool IsDisabledThinking(ref Utf8JsonReader reader)
    {
        // {"type":"disabled"} and "none"/"minimal" efforts do not count as thinking.
        if (reader.TokenType == JsonTokenType.String)
            return reader.ValueTextEquals("none"u8) || reader.ValueTextEquals("minimal"u8);
        var copy = reader;
        var depth = copy.CurrentDepth;
        while (copy.Read() && !(copy.TokenType == JsonTokenType.EndObject && copy.CurrentDepth == depth))
        {
            if (copy.TokenType == JsonTokenType.PropertyName && copy.CurrentDepth == depth + 1 && (copy.ValueTextEquals("type"u8) || copy.ValueTextEquals("effort"u8)))
            {
                copy.Read();
                if (copy.TokenType == JsonTokenType.String && (copy.ValueTextEquals("disabled"u8) || copy.ValueTextEquals("none"u8)))
                    return true;
            }
        }
        return false;
    }

    private static void ReadGenerationConfig(ref Utf8JsonReader reader, RequestInfo info)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return; }
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && (reader.ValueTextEquals("thinkingConfig"u8) || reader.ValueTextEquals("thinking_config"u8)))
            {
                info.Thinking = true;
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadMessages(ref Utf8JsonReader reader, RequestInfo info, string name)
    {
        reader.Read();
        // Passed through as is, a wrong type would reach the upstream and come back as its own puzzling error.
        if (reader.TokenType != JsonTokenType.StartArray && !(name == "input" && reader.TokenType == JsonTokenType.String))
            throw new ProtocolException(name == "input" ? "`input` must be a string or an array" : $"`{name}` must be an array");
        if (reader.TokenType == JsonTokenType.String)
        {
            // Responses API: `input` may be a plain string.
            var start = (int)reader.TokenStartIndex;
            info.FirstMessageRange = start..(int)reader.BytesConsumed;
            info.MessageCount = 1;
            info.TextBytes += reader.ValueSpan.Length;
            return;
        }
        var arrayDepth = reader.CurrentDepth;
        var first = true;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == arrayDepth))
        {
            var start = (int)reader.TokenStartIndex;
            if (reader.TokenType == JsonTokenType.StartObject) WalkMessage(ref reader, info);
            else reader.Skip();
            info.MessageCount++;
            if (first)
            {
                info.FirstMessageRange = start..(int)reader.BytesConsumed;
                first = false;
            }
        }
    }

    /// <summary>What the string value after a property name means to the scan.</summary>
    private enum ValueRole : byte
    {
        Text,
        /// <summary>`type`: part kinds (image, document) are counted, the word itself is not text.</summary>
        Type,
        /// <summary>A MIME type: Gemini marks its images only there.</summary>
        Mime,
        /// <summary>Ids, roles, signatures, base64 payloads: not prompt text.</summary>
        Skip,
    }

    /// <summary>
    /// One message, without allocating: counts image and file parts and the bytes of its text strings for the token
    /// estimate. Gemini's inline/file data counts as a file unless its MIME type says image.
    /// </summary>
    private static void WalkMessage(ref Utf8JsonReader reader, RequestInfo info)
    {
        var depth = reader.CurrentDepth;
        var role = ValueRole.Text;
        var media = 0;
        var imageMimes = 0;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    role = RoleOf(ref reader, ref media);
                    continue;
                case JsonTokenType.String:
                    var value = reader.ValueSpan;
                    switch (role)
                    {
                        case ValueRole.Type:
                            if (reader.ValueTextEquals("image"u8) || reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("input_image"u8)) info.Images++;
                            else if (reader.ValueTextEquals("document"u8) || reader.ValueTextEquals("input_file"u8) || reader.ValueTextEquals("file"u8)) info.Files++;
                            break;
                        case ValueRole.Mime:
                            if (value.StartsWith("image/"u8)) imageMimes++;
                            break;
                        case ValueRole.Text:
                            // A data: URL is an inline image or file, not text.
                            if (!value.StartsWith("data:"u8)) info.TextBytes += value.Length;
                            break;
                    }
                    break;
            }
            role = ValueRole.Text;
        }
        info.Images += Math.Min(media, imageMimes);
        info.Files += Math.Max(0, media - imageMimes);
    }

    private static ValueRole RoleOf(ref Utf8JsonReader reader, ref int media)
    {
        var name = reader.ValueSpan;
        if (name.Length > 20) return ValueRole.Text;
        if (reader.ValueTextEquals("type"u8)) return ValueRole.Type;
        if (reader.ValueTextEquals("mimeType"u8) || reader.ValueTextEquals("mime_type"u8) || reader.ValueTextEquals("media_type"u8)) return ValueRole.Mime;
        if (reader.ValueTextEquals("inlineData"u8) || reader.ValueTextEquals("inline_data"u8) || reader.ValueTextEquals("fileData"u8) || reader.ValueTextEquals("file_data"u8))
        {
            media++;
            return ValueRole.Text;
        }
        if (reader.ValueTextEquals("role"u8) || reader.ValueTextEquals("id"u8) || reader.ValueTextEquals("data"u8) || reader.ValueTextEquals("signature"u8)
            || reader.ValueTextEquals("tool_use_id"u8) || reader.ValueTextEquals("tool_call_id"u8) || reader.ValueTextEquals("call_id"u8)
            || reader.ValueTextEquals("encrypted_content"u8) || reader.ValueTextEquals("file_id"u8) || reader.ValueTextEquals("detail"u8))
            return ValueRole.Skip;
        return ValueRole.Text;
    }
}
