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
        var info = new RequestInfo { Length = body.Length };
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
                else if (reader.ValueTextEquals("tools"u8)) info.HasTools = ReadNonEmptyArray(ref reader);
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

    private static bool ReadNonEmptyArray(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }
        var depth = reader.CurrentDepth;
        var count = 0;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            count++;
            reader.Skip();
        }
        return count > 0;
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
            return;
        }
        var arrayDepth = reader.CurrentDepth;
        var first = true;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == arrayDepth))
        {
            var start = (int)reader.TokenStartIndex;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                // Walk the message looking for image and file parts, without allocating.
                var depth = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        if (!info.HasImages && (reader.ValueTextEquals("image"u8) || reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("input_image"u8)
                            || reader.ValueSpan.StartsWith("image/"u8))) // Gemini inlineData mimeType
                            info.HasImages = true;
                        else if (!info.HasFiles && (reader.ValueTextEquals("document"u8) || reader.ValueTextEquals("input_file"u8)))
                            info.HasFiles = true;
                    }
                    else if (!info.HasFiles && reader.TokenType == JsonTokenType.PropertyName && reader.ValueSpan.Length is >= 8 and <= 11
                        && (reader.ValueTextEquals("inlineData"u8) || reader.ValueTextEquals("inline_data"u8) || reader.ValueTextEquals("fileData"u8) || reader.ValueTextEquals("file_data"u8)))
                        info.HasFiles = true;
                }
            }
            else reader.Skip();
            info.MessageCount++;
            if (first)
            {
                info.FirstMessageRange = start..(int)reader.BytesConsumed;
                first = false;
            }
        }
    }
}
