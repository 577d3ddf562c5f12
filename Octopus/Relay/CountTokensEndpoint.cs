using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Passthrough;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

/// <summary>
/// POST /v1/messages/count_tokens (Claude Code asks before long turns). Authenticated and routed like the relay.
/// When the group's first usable member is an Anthropic channel, that channel counts (its answer is returned as is);
/// for any other channel type, or when the upstream fails, the gateway answers its own estimate. Either way the
/// client gets `{"input_tokens": n}`, never a 404. Not a generation: nothing is logged or billed.
/// </summary>
internal static class CountTokensEndpoint
{
    /// <summary>An estimate is a fine answer, so a slow upstream is not waited on for long.</summary>
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(15);
    private const int MaxAnswerBytes = 64 * 1024;

    public static async Task HandleAsync(HttpContext http)
    {
        var services = http.RequestServices;
        var snapshot = services.GetRequiredService<SnapshotService>().Current;
        var clock = services.GetRequiredService<TimeProvider>();

        if (ClientAuth.Check(snapshot, ClientAuth.ExtractKey(http.Request), clock.GetUtcNow().ToUnixTimeMilliseconds(), out var apiKey) is { } authProblem)
        {
            await WriteErrorAsync(http, 401, authProblem);
            return;
        }

        byte[] body;
        try
        {
            body = await RelayHandler.ReadBodyAsync(http);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(http, 413, RelayHandler.BodyTooLargeMessage(http));
            return;
        }

        RequestInfo info;
        long estimate;
        try
        {
            info = RequestInspector.Inspect(ApiProtocol.Anthropic, body);
            // Decoded only to validate it as a Messages request: a malformed one is the client's 400, not an upstream's.
            Converter.DecodeRequest(ApiProtocol.Anthropic, body);
            estimate = info.EstimatedInputTokens;
        }
        catch (ProtocolException e)
        {
            await WriteErrorAsync(http, 400, e.Message);
            return;
        }
        if (string.IsNullOrEmpty(info.Model))
        {
            await WriteErrorAsync(http, 400, "`model` is required: name one of your groups (GET /v1/models lists them)");
            return;
        }
        var route = snapshot.Routes.Count == 0 ? null
            : snapshot.Routes.Match(new RouteInput(info.Model, ApiProtocol.Anthropic, info, http.Request.Headers));
        var group = route?.Group ?? snapshot.ResolveGroup(info.Model);
        if (group is null)
        {
            await WriteErrorAsync(http, 404, $"model '{info.Model}' is not a group on this gateway (GET /v1/models lists the groups your key may use)");
            return;
        }
        if (!ClientAuth.MayUse(apiKey!, group))
        {
            await WriteErrorAsync(http, 403, $"this API key may not use group '{group.Name}'");
            return;
        }

        var keys = services.GetRequiredService<KeyPool>();
        if (FirstUsableMember(group, snapshot, keys, services.GetRequiredService<MemberCooldowns>()) is { } target
            && target.Channel.Type == ChannelType.Anthropic
            && await AskUpstreamAsync(http, services, target, body, info) is { } answer)
        {
            await WriteJsonAsync(http, answer);
            return;
        }
        await WriteJsonAsync(http, EstimateBody(estimate));
    }

    private sealed record Target(Channel Channel, GroupMember Member, ChannelKey Key, GroupSettings Settings);

    /// <summary>
    /// The member the relay would try first, without moving any balancer: failover by priority, manual's pinned
    /// member, otherwise the configured order; resting members last; only enabled channels with a usable key.
    /// </summary>
    private static Target? FirstUsableMember(Group group, RelaySnapshot snapshot, KeyPool keys, MemberCooldowns cooldowns)
    {
        IEnumerable<GroupMember> order = group.Mode switch
        {
            GroupMode.Failover => group.Members.OrderBy(m => m.Priority),
            GroupMode.Manual => group.Members.OrderBy(m => m.Pinned ? 0 : 1),
            _ => group.Members,
        };
        order = order.OrderBy(m => cooldowns.IsCooling(group.Id, m.ChannelId, m.Model) ? 1 : 0); // stable
        foreach (var member in order)
        {
            if (!snapshot.Channels.TryGetValue(member.ChannelId, out var owner) || !owner.Enabled) continue;
            // A multi-protocol channel counts through its Anthropic endpoint when it has one.
            if (snapshot.Route(owner, ApiProtocol.Anthropic) is not { BaseUrls.Count: > 0 } channel) continue;
            var key = keys.Pick(channel, 0, allowSetAside: false);
            if (key is not null) return new Target(channel, member, key, group.Settings);
        }
        return null;
    }

    /// <summary>The Anthropic channel's own count, or null on any failure (the caller answers the estimate).</summary>
    private static async Task<byte[]?> AskUpstreamAsync(HttpContext http, IServiceProvider services, Target target, byte[] body, RequestInfo info)
    {
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CountTokensEndpoint).FullName!);
        var baseUrl = services.GetRequiredService<BaseUrlSelector>().Pick(target.Channel);
        try
        {
            // Only the model changes; the channel's param override is for generation requests (count_tokens refuses
            // fields such as max_tokens).
            var upstreamBody = BodyRewriter.Rewrite(ApiProtocol.Anthropic, body, info, target.Member.Model, askUsage: false, paramOverride: null);
            using var request = UpstreamRequest.Create(target.Channel, baseUrl, target.Member.Model, stream: false, target.Key, upstreamBody, http.Request.Headers);
            request.RequestUri = new Uri(baseUrl.TrimEnd('/') + "/messages/count_tokens");

            var timeout = TimeSpan.FromSeconds(Math.Min(UpstreamTimeout.TotalSeconds,
                target.Settings.ResponseTimeoutSeconds ?? GroupSettings.DefaultResponseTimeoutSeconds));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            cts.CancelAfter(timeout);
            using var response = await services.GetRequiredService<UpstreamClients>().For(target.Channel.Proxy)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            if (!response.IsSuccessStatusCode)
            {
                log.LogDebug("count_tokens on channel {Channel} answered {Status}; answering the estimate", target.Channel.Name, (int)response.StatusCode);
                return null;
            }
            await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            var answer = new byte[MaxAnswerBytes];
            var total = 0;
            int n;
            while (total < answer.Length && (n = await stream.ReadAsync(answer.AsMemory(total), cts.Token)) > 0) total += n;
            answer = answer[..total];
            if (!HasTokenCount(answer))
            {
                log.LogDebug("count_tokens on channel {Channel} answered without input_tokens; answering the estimate", target.Channel.Name);
                return null;
            }
            return answer;
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            log.LogDebug("count_tokens on channel {Channel} timed out; answering the estimate", target.Channel.Name);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or ProtocolException)
        {
            log.LogDebug("count_tokens on channel {Channel} failed ({Error}); answering the estimate", target.Channel.Name, e.Message);
            return null;
        }
    }

    private static bool HasTokenCount(ReadOnlySpan<byte> answer)
    {
        try
        {
            var reader = new Utf8JsonReader(answer);
            using var doc = JsonDocument.ParseValue(ref reader);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("input_tokens", out var n)
                && n.ValueKind == JsonValueKind.Number && n.TryGetInt64(out var count) && count >= 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] EstimateBody(long estimate)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(32);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("input_tokens", estimate);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task WriteJsonAsync(HttpContext http, byte[] body)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    private static async Task WriteErrorAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(ProtocolErrors.Body(ApiProtocol.Anthropic, status, message), http.RequestAborted);
    }
}
