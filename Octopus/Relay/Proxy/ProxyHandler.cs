using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Octopus.Domain;
using Octopus.Protocols;
using Octopus.Relay.Balancing;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;

namespace Octopus.Relay.Proxy;

/// <summary>
/// `/proxy/{group}/{native path}`: forwards any request of a channel's own API (embeddings, images, audio, files,
/// model lists...) to a member channel of the group, with the relay's client auth, key rotation and failover before
/// the first byte. Bodies are streamed both ways and never interpreted: a `model` in the body is sent as is.
/// </summary>
internal sealed class ProxyHandler(
    SnapshotService snapshots,
    KeyPool keys,
    BaseUrlSelector urls,
    MemberCooldowns cooldowns,
    UpstreamClients clients,
    IRelayRecorder recorder,
    Stats.BudgetTracker budgets,
    Limits.KeyLimiter limiter,
    Notifications.FailureNotifier notifier,
    TimeProvider clock,
    ILogger<ProxyHandler> log)
{
    public const string Prefix = "/proxy/";
    /// <summary>How much of a request body is kept so a failed attempt can be sent again to the next upstream.</summary>
    public const int ReplayBufferBytes = 4 * 1024 * 1024;
    private const int MaxErrorBodyBytes = 64 * 1024;

    public async Task HandleAsync(HttpContext http)
    {
        var shape = ShapeOfClient(http.Request);
        var r = new RelayRequest { Http = http, Protocol = shape, Time = clock.GetUtcNow().ToUnixTimeMilliseconds(), ProxyPath = http.Request.Method + " " + http.Request.Path };
        try
        {
            await RunAsync(r, shape);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            r.Status = 499;
            r.Error ??= "client closed the request";
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(r, shape, 413, $"request body is larger than the gateway's limit ({http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize / (1024 * 1024)} MiB; server.max_body_mb)");
        }
        catch (Exception e)
        {
            log.LogError(e, "Proxy failed unexpectedly for group {Group}", r.Group?.Name);
            r.Error = "internal error: " + e.Message;
            if (!http.Response.HasStarted) await WriteErrorAsync(r, shape, 500, "internal gateway error; see the gateway log");
            else http.Abort();
            r.Status = r.Status == 0 ? 500 : r.Status;
        }
        finally
        {
            if (r.Status == 0) r.Status = http.Response.StatusCode;
            try
            {
                recorder.Record(r);
            }
            finally
            {
                r.BudgetReservation?.Release();
                r.ReleaseLimitSlot();
            }
        }
    }

    private async Task RunAsync(RelayRequest r, ApiProtocol shape)
    {
        var http = r.Http;
        var snapshot = snapshots.Current;
        if (ClientAuth.Check(snapshot, ClientAuth.ExtractKey(http.Request), r.Time, out var apiKey) is { } authProblem)
        {
            await WriteErrorAsync(r, shape, 401, authProblem);
            return;
        }
        r.ApiKey = apiKey;

        if (!TrySplitPath(http.Request.Path.Value ?? "", out var groupName, out var segments, out var pathProblem))
        {
            await WriteErrorAsync(r, shape, 400, pathProblem!);
            return;
        }
        r.RequestedModel = groupName;
        var group = snapshot.ResolveGroup(groupName);
        if (group is null)
        {
            await WriteErrorAsync(r, shape, 404, $"group '{groupName}' does not exist on this gateway");
            return;
        }
        r.Group = group;

        // Only channels speaking the API of the group's first member: a native path means nothing to another provider.
        var order = new List<GroupMember>(group.Members);
        Balancers.For(group.Mode).Order(group, order);
        var resting = order.Where(m => cooldowns.IsCooling(group.Id, m.ChannelId, m.Model)).ToList();
        if (resting.Count > 0 && resting.Count < order.Count)
        {
            order.RemoveAll(resting.Contains);
            order.AddRange(resting);
        }
        var channels = new List<Channel>();
        var family = group.Members.Select(m => snapshot.Channels.GetValueOrDefault(m.ChannelId)).FirstOrDefault(c => c is not null) is { } firstChannel
            ? Family(firstChannel.Type) : null;
        foreach (var m in order)
        {
            if (snapshot.Channels.TryGetValue(m.ChannelId, out var c) && c.Enabled && c.BaseUrls.Count > 0 && Family(c.Type) == family
                && !channels.Any(x => x.Id == c.Id))
                channels.Add(c);
        }
        if (channels.Count > 0) shape = channels[0].Type.ProtocolOf();

        if (!ClientAuth.MayUse(apiKey!, group))
        {
            await WriteErrorAsync(r, shape, 403, $"this API key may not use group '{group.Name}'");
            return;
        }
        var budget = await budgets.ReserveAsync(apiKey!, http.RequestAborted);
        if (budget.Refusal is { } spent)
        {
            if (budget.RetryAfter is { } wait) http.Response.Headers.RetryAfter = ((long)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.Headers["x-should-retry"] = "false";
            await WriteErrorAsync(r, shape, 429, spent, type: shape == ApiProtocol.Anthropic ? "billing_error" : "insufficient_quota", code: "insufficient_quota");
            return;
        }
        r.BudgetReservation = budget.Reservation;
        // The key's limits count proxied requests too (opaque bodies: requests and concurrency, no tokens).
        if (limiter.TryAcquire(apiKey!, group.Name, out var lease) is { } limited)
        {
            http.Response.Headers.RetryAfter = limited.RetryAfter;
            await WriteErrorAsync(r, shape, 429, limited.Message);
            return;
        }
        r.LimitLease = lease;
        if (channels.Count == 0)
        {
            await WriteErrorAsync(r, shape, 503, $"group '{group.Name}': it has no enabled member with a usable channel");
            return;
        }

        var bodyDetection = http.Features.Get<IHttpRequestBodyDetectionFeature>();
        var body = bodyDetection?.CanHaveBody ?? http.Request.ContentLength > 0
            ? new ReplayableBody(http.Request.Body, ReplayBufferBytes)
            : null;
        await ForwardAsync(r, group, channels, segments, body, shape);
    }

    private async Task ForwardAsync(RelayRequest r, Group group, List<Channel> channels, string[] segments, ReplayableBody? body, ApiProtocol shape)
    {
        var settings = group.Settings;
        var attemptsPerChannel = Math.Max(1, settings.AttemptsPerMember ?? GroupSettings.DefaultAttemptsPerMember);
        var retryInterval = TimeSpan.FromMilliseconds(settings.RetryIntervalMs ?? GroupSettings.DefaultRetryIntervalMs);
        var failures = new List<string>();
        var sawTimeout = false;
        var sawResponse = false;
        Channel? lastChannel = null;

        foreach (var channel in channels)
        {
            // A failed attempt consumed more of the body than is kept: it cannot be sent again.
            if (body is { CanReplay: false }) break;
            var triedKeys = new HashSet<long>();
            var attempts = 0;
            while (attempts < attemptsPerChannel)
            {
                if (body is { CanReplay: false })
                {
                    failures.Add("not retried: the request body was larger than the replay buffer");
                    break;
                }
                var key = keys.Pick(channel, 0, allowSetAside: channel.ProbePolicy is "passive" or "active", triedKeys.Count > 0 ? triedKeys : null);
                if (key is null)
                {
                    failures.Add($"{channel.Name}: no usable key");
                    break;
                }
                triedKeys.Add(key.Id);
                if (attempts > 0 && retryInterval > TimeSpan.Zero) await Task.Delay(retryInterval, r.Http.RequestAborted);
                var baseUrl = urls.Pick(channel);
                lastChannel = channel;
                var outcome = await AttemptAsync(r, group, channel, key, baseUrl, segments, body);
                switch (outcome.Kind)
                {
                    case Kind.Done:
                        foreach (var m in group.Members.Where(m => m.ChannelId == channel.Id)) cooldowns.Clear(group.Id, channel.Id, m.Model);
                        return;
                    case Kind.NextKey:
                        failures.Add($"{channel.Name}: {outcome.Error}");
                        sawResponse = true;
                        if (triedKeys.Count >= channel.Keys.Count) attempts = attemptsPerChannel;
                        continue;
                    default:
                        failures.Add($"{channel.Name}: {outcome.Error}");
                        sawTimeout |= outcome.Timeout;
                        sawResponse |= !outcome.Timeout;
                        attempts++;
                        break;
                }
            }
            if (body is { CanReplay: false } && attempts == 0) break;
            var rest = TimeSpan.FromSeconds(settings.CooldownSeconds ?? GroupSettings.DefaultCooldownSeconds);
            foreach (var m in group.Members.Where(m => m.ChannelId == channel.Id)) cooldowns.CoolDown(group.Id, channel.Id, m.Model, rest);
        }

        r.Channel = lastChannel;
        r.UpstreamProtocol = lastChannel?.Type.ProtocolOf();
        var status = failures.Count == 0 ? 503 : sawTimeout && !sawResponse ? 504 : 502;
        var detail = failures.Count == 0 ? "it has no usable key" : "every attempt failed: " + string.Join("; ", failures.Distinct().Take(8));
        notifier.GroupFailed(group.Name, status, detail);
        await WriteErrorAsync(r, shape, status, $"group '{group.Name}': {detail}");
    }

    private enum Kind { Done, NextKey, Failed }

    private readonly record struct Outcome(Kind Kind, string? Error = null, bool Timeout = false);

    private async Task<Outcome> AttemptAsync(RelayRequest r, Group group, Channel channel, ChannelKey key, string baseUrl, string[] segments, ReplayableBody? body)
    {
        var http = r.Http;
        var started = Stopwatch.GetTimestamp();
        var timeout = TimeSpan.FromSeconds(group.Settings.ResponseTimeoutSeconds ?? GroupSettings.DefaultResponseTimeoutSeconds);
        var idle = TimeSpan.FromSeconds(group.Settings.StreamIdleTimeoutSeconds ?? GroupSettings.DefaultStreamIdleTimeoutSeconds);
        int status = 0;
        string? error = null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        cts.CancelAfter(timeout);
        HttpResponseMessage? response = null;
        try
        {
            if (Target(baseUrl, segments, http.Request.Query) is not { } uri)
            {
                error = "the path leaves the channel's base URL";
                return new Outcome(Kind.Failed, error);
            }
            using var request = BuildRequest(http, channel, key, uri, body);
            try
            {
                response = await clients.SenderFor(channel.Proxy).SendAsync(request, cts.Token);
            }
            // As in the relay: a cancellation the bare handler surfaced as a socket error is still the timeout.
            catch (Exception e) when ((e is OperationCanceledException
                    || e is HttpRequestException { InnerException: not BadHttpRequestException } && cts.IsCancellationRequested)
                && !http.RequestAborted.IsCancellationRequested)
            {
                error = $"no response within {timeout.TotalSeconds:0} s";
                return new Outcome(Kind.Failed, error, Timeout: true);
            }
            catch (HttpRequestException e)
            {
                // The client's body broke off or went over the limit: not the upstream's fault.
                if (e.InnerException is BadHttpRequestException bad) throw bad;
                if (http.RequestAborted.IsCancellationRequested) throw new OperationCanceledException(http.RequestAborted);
                urls.ReportFailure(channel, baseUrl);
                error = "connection failed: " + (e.HttpRequestError == HttpRequestError.ConnectionError ? "connection refused or unreachable" : e.Message);
                return new Outcome(Kind.Failed, error);
            }

            status = (int)response.StatusCode;
            urls.ReportLatency(channel, baseUrl, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (status is 401 or 403 or 429 or 408 or >= 500)
            {
                var errorBody = Scrub(await ReadLimitedAsync(response, cts.Token), key.Secret);
                error = $"upstream {status}: {RelayHandler.Summarize(errorBody)}";
                var outcome = status switch
                {
                    401 or 403 => Report(() => keys.ReportRejected(key, status, RelayHandler.Summarize(errorBody)), Kind.NextKey),
                    429 => Report(() => keys.ReportRateLimited(key, response.Headers.RetryAfter?.Delta), Kind.NextKey),
                    _ => Report(() => keys.ReportFailure(key, $"upstream {status}"), Kind.Failed),
                };
                // A body too big to send again: this upstream's answer is the final one.
                if (body is { CanReplay: false })
                {
                    await CopyErrorAsync(r, channel, response, status, errorBody, key.Secret);
                    return new Outcome(Kind.Done);
                }
                return outcome with { Error = error };
            }

            keys.ReportSuccess(key, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            r.Channel = channel;
            r.UpstreamProtocol = channel.Type.ProtocolOf();
            if (status >= 400)
            {
                // The request itself is wrong (400, 404, 413, 422): another upstream would say the same.
                var errorBody = Scrub(await ReadLimitedAsync(response, cts.Token), key.Secret);
                error = $"upstream {status}: {RelayHandler.Summarize(errorBody)}";
                await CopyErrorAsync(r, channel, response, status, errorBody, key.Secret);
                return new Outcome(Kind.Done);
            }
            error = await CopyResponseAsync(r, response, key.Secret, cts, idle);
            r.Error = error;
            return new Outcome(Kind.Done);
        }
        finally
        {
            response?.Dispose();
            r.Attempts.Add(new RequestAttempt
            {
                ChannelId = channel.Id,
                ChannelName = channel.Name,
                BaseUrl = baseUrl,
                Model = "",
                KeyId = key.Id,
                Status = status,
                Error = error,
                DurationMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            });
        }
    }

    private static Outcome Report(Action report, Kind kind)
    {
        report();
        return new Outcome(kind);
    }

    private static HttpRequestMessage BuildRequest(HttpContext http, Channel channel, ChannelKey key, Uri uri, ReplayableBody? body)
    {
        var req = new HttpRequestMessage(new HttpMethod(http.Request.Method), uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (body is not null)
        {
            req.Content = new StreamContent(body.Open(), 16 * 1024);
            if (http.Request.ContentLength is { } length) req.Content.Headers.ContentLength = length;
        }
        ProxyHeaders.CopyRequest(http.Request.Headers, req);
        UpstreamRequest.AddAuth(req, channel.Type, key.Secret);
        if (channel.Type == ChannelType.Anthropic && !req.Headers.Contains("anthropic-version"))
            req.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        foreach (var (name, value) in channel.Headers)
        {
            if (name.AsSpan().IndexOfAny('\r', '\n') >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0) continue;
            req.Headers.Remove(name);
            if (!req.Headers.TryAddWithoutValidation(name, value) && req.Content is not null)
            {
                req.Content.Headers.Remove(name);
                req.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return req;
    }

    /// <summary>Streams a successful upstream answer to the client as it arrives; returns the error if it broke off.</summary>
    private static async Task<string?> CopyResponseAsync(RelayRequest r, HttpResponseMessage response, string secret, CancellationTokenSource cts, TimeSpan idle)
    {
        var http = r.Http;
        http.Response.StatusCode = (int)response.StatusCode;
        ProxyHeaders.CopyResponse(response, http.Response, secret);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        r.Status = (int)response.StatusCode;
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var upstream = await response.Content.ReadAsStreamAsync(cts.Token);
            await http.Response.StartAsync(http.RequestAborted);
            var left = response.Content.Headers.ContentLength;
            while (true)
            {
                cts.CancelAfter(idle);
                int n;
                try
                {
                    n = await upstream.ReadAsync(buffer, cts.Token);
                }
                catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
                {
                    http.Abort();
                    return $"upstream body stalled: nothing for {idle.TotalSeconds:0} s";
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    http.Abort();
                    return "upstream body cut: " + e.Message;
                }
                if (n == 0) return null;
                r.TtftMs ??= r.ElapsedMs;
                // The client's reply is complete with this write: free the key's slot before it can ask again.
                if (left is { } l && (left = l - n) <= 0) r.ReleaseLimitSlot();
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, n), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task CopyErrorAsync(RelayRequest r, Channel channel, HttpResponseMessage response, int status, byte[] body, string secret)
    {
        var http = r.Http;
        r.Channel = channel;
        r.UpstreamProtocol = channel.Type.ProtocolOf();
        r.Status = status;
        r.Error = $"upstream {status}: {RelayHandler.Summarize(body)}";
        r.ResponseBody = body;
        http.Response.StatusCode = status;
        ProxyHeaders.CopyResponse(response, http.Response, secret);
        http.Response.ContentLength = body.Length;
        r.ReleaseLimitSlot();
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    private static async Task WriteErrorAsync(RelayRequest r, ApiProtocol shape, int status, string message, string? type = null, string? code = null)
    {
        r.Status = status;
        r.Error = message;
        var res = r.Http.Response;
        if (res.HasStarted) return;
        res.StatusCode = status;
        res.ContentType = "application/json";
        var body = ProtocolErrors.Body(shape, status, message, type, code);
        r.ResponseBody = body;
        r.ReleaseLimitSlot();
        await res.Body.WriteAsync(body, r.Http.RequestAborted);
    }

    /// <summary>
    /// Splits `/proxy/{group}/{path}` (already decoded and dot-normalised by Kestrel) into the group and the path
    /// segments. A segment hiding a slash, a backslash or a dot segment behind percent-encoding is refused.
    /// </summary>
    internal static bool TrySplitPath(string path, out string group, out string[] segments, out string? problem)
    {
        group = "";
        segments = [];
        problem = null;
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            problem = "the path must be /proxy/{group}/{native path}";
            return false;
        }
        var parts = path[Prefix.Length..].Split('/');
        group = parts[0];
        if (group.Length == 0)
        {
            problem = "the path must name a group: /proxy/{group}/{native path}";
            return false;
        }
        var rest = new List<string>(parts.Length);
        for (var i = 1; i < parts.Length; i++)
        {
            var s = parts[i];
            if (s.Length == 0 && i < parts.Length - 1) continue;
            var decoded = s.Contains('%') ? Uri.UnescapeDataString(s) : s;
            if (decoded is "." or ".." || decoded.Contains('/') || decoded.Contains('\\') || s.Contains('\\'))
            {
                problem = "the path may not contain dot segments or encoded slashes";
                return false;
            }
            rest.Add(decoded);
        }
        segments = [.. rest];
        return true;
    }

    /// <summary>
    /// The upstream URL: the channel's base URL (which holds the version path) + the native path + the query without
    /// the client's `key`. A path repeating the base URL's version (`/v1/...` on `.../v1`) is not doubled, so SDKs
    /// whose base URL has no version (Anthropic, Gemini) work too. Null when the result would leave the base URL.
    /// </summary>
    internal static Uri? Target(string baseUrl, string[] segments, IQueryCollection query)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/'), UriKind.Absolute, out var baseUri)) return null;
        var basePath = baseUri.AbsolutePath.TrimEnd('/');
        var version = basePath[(basePath.LastIndexOf('/') + 1)..];
        var start = segments.Length > 0 && version.Length > 0 && segments[0] == version ? 1 : 0;
        var sb = new StringBuilder(baseUrl.TrimEnd('/'));
        if (baseUri.Query.Length > 0) return null; // a base URL never carries a query; refuse rather than guess
        for (var i = start; i < segments.Length; i++) sb.Append('/').Append(EscapeSegment(segments[i]));
        var first = true;
        foreach (var (name, values) in query)
        {
            if (name == "key") continue; // the client's key for the gateway, never the upstream's
            foreach (var v in values)
            {
                sb.Append(first ? '?' : '&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(v ?? ""));
                first = false;
            }
        }
        if (!Uri.TryCreate(sb.ToString(), UriKind.Absolute, out var target)) return null;
        var prefix = basePath + "/";
        if (target.Scheme != baseUri.Scheme || target.Authority != baseUri.Authority
            || !(target.AbsolutePath == basePath || target.AbsolutePath.StartsWith(prefix, StringComparison.Ordinal) || basePath.Length == 0))
            return null;
        return target;
    }

    /// <summary>Percent-encodes what is not a path character (RFC 3986 pchar), keeping `:` and `@` (Gemini's `model:action`).</summary>
    private static string EscapeSegment(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@')
                sb.Append(c);
            else
                sb.Append('%').Append(b.ToString("X2"));
        }
        return sb.ToString();
    }

    /// <summary>The error shape before a group is known: the client's credential style names its SDK.</summary>
    private static ApiProtocol ShapeOfClient(HttpRequest request) =>
        request.Headers.ContainsKey("x-api-key") || request.Headers.ContainsKey("anthropic-version") ? ApiProtocol.Anthropic
        : request.Headers.ContainsKey("x-goog-api-key") || request.Query.ContainsKey("key") ? ApiProtocol.Gemini
        : ApiProtocol.OpenAIChat;

    /// <summary>Channels whose native APIs are the same (and so interchangeable behind one path).</summary>
    private static string Family(ChannelType type) => type switch
    {
        ChannelType.Anthropic => "anthropic",
        ChannelType.Gemini => "gemini",
        _ => "openai",
    };

    private static byte[] Scrub(byte[] body, string secret)
    {
        if (secret.Length < 4 || body.Length == 0) return body;
        var s = Encoding.UTF8.GetBytes(secret);
        if (body.AsSpan().IndexOf(s) < 0) return body;
        return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace(secret, "[redacted]", StringComparison.Ordinal));
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var s = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await s.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += n;
            return buffer[..total];
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return [];
        }
    }
}
