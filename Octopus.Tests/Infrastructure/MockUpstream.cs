using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Octopus.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that answers like an LLM provider: OpenAI Chat, Responses, Anthropic Messages
/// and Gemini, streamed and not, with the providers' exact SSE framing. Tests script faults per request through
/// <see cref="Behave"/>; every request received is recorded.
/// </summary>
public sealed class MockUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string Name { get; }
    public string BaseUrl { get; }
    public ConcurrentQueue<Received> Requests { get; } = new();
    /// <summary>Requests whose connection the client (Octopus) aborted before the reply finished.</summary>
    public ConcurrentQueue<(Received Request, DateTimeOffset At)> Aborted { get; } = new();
    /// <summary>Decides the reply for each request; null means the default successful reply.</summary>
    public Func<Received, Reply?>? Behave { get; set; }
    public int Count => Requests.Count;
    private int _inFlight;
    private long _bytesSent;
    /// <summary>Requests whose handler is still running (a leaked upstream connection keeps this above zero).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);
    /// <summary>Bytes of SSE events written so far, over all requests (shows whether a slow client stalls the writes).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public sealed record Received(string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string BodyText => Encoding.UTF8.GetString(Body);
        public JsonElement Json => Body.Length == 0 ? default : JsonDocument.Parse(Body).RootElement;
        public string? Model => Path.Contains("/models/") ? Path.Split("/models/")[1].Split(':')[0]
            : Body.Length > 0 && Json.TryGetProperty("model", out var m) ? m.GetString() : null;
        public string? Key => Headers.TryGetValue("authorization", out var a) ? a.Replace("Bearer ", "") :
            Headers.TryGetValue("x-api-key", out var x) ? x : Headers.TryGetValue("x-goog-api-key", out var g) ? g : null;
    }

    /// <summary>A scripted reply. Set <see cref="Status"/>+<see cref="Body"/>, or <see cref="Events"/> for SSE.</summary>
    public sealed record Reply
    {
        public int Status { get; init; } = 200;
        public string? Body { get; init; }
        public IReadOnlyList<string>? Events { get; init; }
        public Dictionary<string, string> Headers { get; init; } = [];
        public TimeSpan DelayBeforeHeaders { get; init; }
        public TimeSpan DelayBetweenEvents { get; init; }
        /// <summary>After this many events, stop sending but keep the connection open (a stalled stream).</summary>
        public int? StallAfter { get; init; }
        /// <summary>After this many events, abort the connection (a stream cut mid-way).</summary>
        public int? CutAfter { get; init; }
        /// <summary>Send only headers, then nothing.</summary>
        public bool HeadersThenSilence { get; init; }
    }

    private MockUpstream(WebApplication app, string name, string baseUrl)
    {
        _app = app;
        Name = name;
        BaseUrl = baseUrl;
    }

    public static async Task<MockUpstream> StartAsync(string name = "mock")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        MockUpstream? self = null;
        app.Run(ctx => self!.HandleAsync(ctx));
        await app.StartAsync();
        var address = app.Urls.First();
        self = new MockUpstream(app, name, address);
        return self;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _inFlight);
        try { await HandleCoreAsync(ctx); }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    private async Task HandleCoreAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms);
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var received = new Received(ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "", headers, ms.ToArray());
        Requests.Enqueue(received);

        try
        {
            var reply = Behave?.Invoke(received);
            if (reply is null && ctx.Request.Method == "GET" && received.Path.EndsWith("/models"))
            {
                await WriteJson(ctx, 200, ModelList(received.Path));
                return;
            }
            reply ??= DefaultReply(received);
            await SendAsync(ctx, received, reply);
        }
        catch (OperationCanceledException)
        {
            Aborted.Enqueue((received, DateTimeOffset.UtcNow));
        }
        catch (IOException)
        {
            Aborted.Enqueue((received, DateTimeOffset.UtcNow));
        }
    }

    private async Task SendAsync(HttpContext ctx, Received req, Reply reply)
    {
        var ct = ctx.RequestAborted;
        if (reply.DelayBeforeHeaders > TimeSpan.Zero) await Task.Delay(reply.DelayBeforeHeaders, ct);
        ctx.Response.StatusCode = reply.Status;
        foreach (var (k, v) in reply.Headers) ctx.Response.Headers[k] = v;
        if (reply.HeadersThenSilence)
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.Body.FlushAsync(ct);
            await Task.Delay(Timeout.Infinite, ct);
        }
        if (reply.Events is null)
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(reply.Body ?? "", ct);
            return;
        }
        ctx.Response.ContentType = "text/event-stream";
        await ctx.Response.Body.FlushAsync(ct);
        for (var i = 0; i < reply.Events.Count; i++)
        {
            if (reply.StallAfter == i)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            if (reply.CutAfter == i)
            {
                // Let what was sent reach the peer first: a reset discards bytes the peer has not read yet.
                await Task.Delay(100, ct);
                ctx.Abort();
                return;
            }
            if (i > 0 && reply.DelayBetweenEvents > TimeSpan.Zero) await Task.Delay(reply.DelayBetweenEvents, ct);
            await ctx.Response.WriteAsync(reply.Events[i], ct);
            await ctx.Response.Body.FlushAsync(ct);
            Interlocked.Add(ref _bytesSent, Encoding.UTF8.GetByteCount(reply.Events[i]));
        }
    }

    private static Task WriteJson(HttpContext ctx, int status, string json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json);
    }

    private static string ModelList(string path) => path.Contains("v1beta")
        ? """{"models":[{"name":"models/gemini-2.5-flash"},{"name":"models/gemini-2.5-pro"}]}"""
        : """{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"},{"id":"gpt-4o","object":"model"},{"id":"claude-sonnet-4-5","object":"model"}]}""";

    /// <summary>
    /// A correct reply in the protocol the request's path names. By default it says "Hello from {Name}". When the
    /// request declares tools and ends with a user turn, it calls <see cref="Wire.ToolName"/>; when it ends with a
    /// tool result, it answers "{Name} read the tool result: {result}". When it asks for thinking, a thinking block
    /// (with the provider's own signature) comes first. A history the real provider would refuse (a tool result
    /// without its call, a reasoning signature it did not mint) gets that provider's 400 instead.
    /// </summary>
    public Reply DefaultReply(Received req)
    {
        var model = req.Model ?? "unknown";
        if (WireOperations.Reply(req) is { } operation) return operation;
        if (req.Path.EndsWith("/messages/count_tokens"))
            return new Reply { Body = $$"""{"input_tokens":{{Wire.CountedTokens}}}""" };
        var kind = req.Path.EndsWith("/chat/completions") ? Api.Chat
            : req.Path.EndsWith("/messages") ? Api.Anthropic
            : req.Path.EndsWith("/responses") ? Api.Responses
            : req.Path.Contains(":streamGenerateContent") || req.Path.Contains(":generateContent") ? Api.Gemini
            : (Api?)null;
        if (kind is not { } api) return new Reply { Status = 404, Body = """{"error":{"message":"no such route"}}""" };

        var body = req.Json;
        if (HistoryProblem(api, body) is { } problem)
        {
            return new Reply
            {
                Status = 400,
                Body = api switch
                {
                    Api.Anthropic => Wire.AnthropicError(problem),
                    Api.Gemini => Wire.GeminiError(400, problem),
                    _ => Wire.OpenAIError(problem),
                },
            };
        }

        var plan = Plan(api, body);
        var answer = plan.ToolResult is { } result
            ? new Wire.Answer($"{Name} read the tool result: {result}", plan.Thinking)
            : new Wire.Answer($"Hello from {Name}", plan.Thinking, ToolCall: plan.Tools && plan.LastIsUser);
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        switch (api)
        {
            case Api.Chat:
                var includeUsage = body.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
                return stream ? new Reply { Events = Wire.OpenAIChatStream(model, answer, includeUsage) } : new Reply { Body = Wire.OpenAIChatJson(model, answer) };
            case Api.Anthropic:
                return stream ? new Reply { Events = Wire.AnthropicStream(model, answer) } : new Reply { Body = Wire.AnthropicJson(model, answer) };
            case Api.Responses:
                return stream ? new Reply { Events = Wire.ResponsesStream(model, answer) } : new Reply { Body = Wire.ResponsesJson(model, answer) };
            default:
                return req.Path.Contains(":streamGenerateContent") ? new Reply { Events = Wire.GeminiStream(model, answer) } : new Reply { Body = Wire.GeminiJson(model, answer) };
        }
    }

    private enum Api { Chat, Anthropic, Responses, Gemini }

    /// <summary>What a request asks of the model: tools declared, thinking, and how its conversation ends.</summary>
    private sealed record Ask(bool Tools, bool Thinking, bool LastIsUser, string? ToolResult);

    private static int Length(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : 0;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement Last(JsonElement e, string name) =>
        Length(e, name) is var n and > 0 ? e.GetProperty(name)[n - 1] : default;

    private static IEnumerable<JsonElement> Items(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    /// <summary>A tool result's text: a string, or the text of its content parts.</summary>
    private static string ResultText(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(p => Str(p, "text") ?? "")),
        _ => content.GetRawText(),
    };

    private static Ask Plan(Api api, JsonElement body)
    {
        switch (api)
        {
            case Api.Chat:
            {
                var last = Last(body, "messages");
                var thinking = Str(body, "reasoning_effort") is { } effort && effort != "none"
                    || body.TryGetProperty("reasoning", out var r) && Str(r, "effort") is { } e && e != "none"
                    || body.TryGetProperty("thinking", out var th) && Str(th, "type") == "enabled";
                var result = Str(last, "role") == "tool" && last.TryGetProperty("content", out var c) ? ResultText(c) : null;
                return new Ask(Length(body, "tools") > 0, thinking, Str(last, "role") == "user", result);
            }
            case Api.Anthropic:
            {
                var last = Last(body, "messages");
                var thinking = body.TryGetProperty("thinking", out var th) && Str(th, "type") is "enabled" or "adaptive";
                string? result = null;
                foreach (var block in Items(last, "content"))
                    if (Str(block, "type") == "tool_result")
                        result = block.TryGetProperty("content", out var c) ? ResultText(c) : "";
                return new Ask(Length(body, "tools") > 0, thinking, Str(last, "role") == "user" && result is null, result);
            }
            case Api.Responses:
            {
                var input = body.GetProperty("input");
                var last = input.ValueKind == JsonValueKind.Array ? Last(body, "input") : default;
                var thinking = body.TryGetProperty("reasoning", out var r) && r.ValueKind == JsonValueKind.Object && Str(r, "effort") != "none";
                var result = Str(last, "type") == "function_call_output" && last.TryGetProperty("output", out var o) ? ResultText(o) : null;
                var lastIsUser = input.ValueKind == JsonValueKind.String || Str(last, "role") == "user";
                return new Ask(Length(body, "tools") > 0, thinking, lastIsUser, result);
            }
            default:
            {
                var last = Last(body, "contents");
                var tools = Items(body, "tools").Any(t => Length(t, "functionDeclarations") > 0);
                var thinking = body.TryGetProperty("generationConfig", out var gc) && gc.TryGetProperty("thinkingConfig", out var tc)
                    && !(tc.TryGetProperty("thinkingBudget", out var b) && b.ValueKind == JsonValueKind.Number && b.GetInt64() == 0)
                    && tc.TryGetProperty("includeThoughts", out var it) && it.ValueKind == JsonValueKind.True;
                string? result = null;
                foreach (var part in Items(last, "parts"))
                {
                    if (!part.TryGetProperty("functionResponse", out var fr) || !fr.TryGetProperty("response", out var resp)) continue;
                    // Google's convention is {"output": ...}; anything else is quoted as JSON.
                    result = resp.TryGetProperty("output", out var o) ? ResultText(o) : resp.GetRawText();
                }
                return new Ask(tools, thinking, Str(last, "role") != "model" && result is null, result);
            }
        }
    }

    /// <summary>What the real provider would refuse in this history, in its own words; null when it is fine.</summary>
    private static string? HistoryProblem(Api api, JsonElement body)
    {
        switch (api)
        {
            case Api.Chat:
            {
                // Every tool message answers a call of the assistant message right before it, and every call is answered.
                HashSet<string>? open = null;
                foreach (var m in Items(body, "messages"))
                {
                    var role = Str(m, "role");
                    if (role == "tool")
                    {
                        if (open is null || !open.Remove(Str(m, "tool_call_id") ?? ""))
                            return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
                        continue;
                    }
                    if (open is { Count: > 0 })
                        return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: " + string.Join(", ", open);
                    open = role == "assistant" ? Items(m, "tool_calls").Select(c => Str(c, "id") ?? "").ToHashSet() : null;
                }
                return null;
            }
            case Api.Anthropic:
            {
                var i = 0;
                HashSet<string> previousCalls = [];
                foreach (var m in Items(body, "messages"))
                {
                    var calls = new HashSet<string>();
                    var j = 0;
                    foreach (var block in Items(m, "content"))
                    {
                        switch (Str(block, "type"))
                        {
                            // A signature covers its block's text: either changed means the block is not Claude's.
                            case "thinking" when Str(block, "signature") != Wire.AnthropicSignature || Str(block, "thinking") != Wire.ThinkingText:
                                return $"messages.{i}.content.{j}: Invalid `signature` in `thinking` block";
                            case "redacted_thinking":
                                return $"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block";
                            case "tool_use":
                                var id = Str(block, "id") ?? "";
                                if (id.Length == 0 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-'))
                                    return $"messages.{i}.content.{j}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'";
                                calls.Add(id);
                                break;
                            case "tool_result" when !previousCalls.Contains(Str(block, "tool_use_id") ?? ""):
                                return $"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {Str(block, "tool_use_id")}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
                        }
                        j++;
                    }
                    previousCalls = Str(m, "role") == "assistant" ? calls : [];
                    i++;
                }
                // With thinking on, the assistant turn whose tool calls are being answered must open with its thinking.
                var messages = Items(body, "messages").ToList();
                var thinkingOn = body.TryGetProperty("thinking", out var th) && Str(th, "type") is "enabled" or "adaptive";
                if (thinkingOn && messages.Count >= 2 && Items(messages[^1], "content").Any(b => Str(b, "type") == "tool_result"))
                {
                    var turn = messages[^2];
                    var opening = Items(turn, "content").Select(b => Str(b, "type")).FirstOrDefault();
                    if (opening is not ("thinking" or "redacted_thinking"))
                        return $"messages.{messages.Count - 2}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{opening}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`.";
                }
                return null;
            }
            case Api.Responses:
            {
                var calls = new HashSet<string>();
                foreach (var item in Items(body, "input"))
                {
                    switch (Str(item, "type"))
                    {
                        case "function_call":
                            calls.Add(Str(item, "call_id") ?? "");
                            break;
                        case "function_call_output" when !calls.Contains(Str(item, "call_id") ?? ""):
                            return $"No tool call found for function call output with call_id {Str(item, "call_id")}.";
                        case "reasoning" when Str(item, "encrypted_content") != Wire.ResponsesEncryptedContent:
                            return "The encrypted content for item " + Str(item, "id") + " could not be verified.";
                    }
                }
                return null;
            }
            default:
            {
                foreach (var content in Items(body, "contents"))
                {
                    var firstCall = true;
                    foreach (var part in Items(content, "parts"))
                    {
                        var sig = Str(part, "thoughtSignature");
                        if (sig is not null && sig != Wire.GeminiSignature && sig != Wire.GeminiSkipSignature)
                            return "Corrupted thought signature.";
                        if (!part.TryGetProperty("functionCall", out _)) continue;
                        // Gemini 3 checks the first function call of each model turn for its signature.
                        if (firstCall && sig is null)
                            return "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance.";
                        firstCall = false;
                    }
                }
                return null;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
