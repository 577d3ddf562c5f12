using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Octopus.Domain;
using Octopus.Hosting;
using Octopus.Protocols;
using Octopus.Protocols.Conversion;
using Octopus.Protocols.Passthrough;
using Octopus.Protocols.Sse;
using Octopus.Relay.Balancing;
using Octopus.Relay.Health;
using Octopus.Relay.Routing;

namespace Octopus.Relay;

/// <summary>
/// The attempt loop: authenticate, pick a group, try its members (and their keys) in balancing order until one
/// answers, and only then commit the response to the client. Nothing reaches the client before an upstream has
/// produced real content, so every failure before that point can still move on to the next member.
/// </summary>
internal sealed class RelayHandler(
    SnapshotService snapshots,
    KeyPool keys,
    BaseUrlSelector urls,
    MemberCooldowns cooldowns,
    AffinityTable affinity,
    UpstreamClients clients,
    IRelayRecorder recorder,
    Stats.BudgetTracker budgets,
    Limits.KeyLimiter limiter,
    ChannelHealth health,
    Notifications.FailureNotifier notifier,
    TimeProvider clock,
    ILogger<RelayHandler> log)
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    public async Task HandleAsync(HttpContext http, ApiProtocol protocol, string? pathModel = null, bool pathStream = false,
        RelayOperation operation = RelayOperation.Generate, bool geminiBatch = false)
    {
        var r = new RelayRequest { Http = http, Protocol = protocol, Operation = operation, GeminiBatch = geminiBatch, Time = clock.GetUtcNow().ToUnixTimeMilliseconds() };
        try
        {
            await RunAsync(r, pathModel, pathStream);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            r.Status = 499;
            r.Error ??= "client closed the request";
        }
        catch (Exception e)
        {
            log.LogError(e, "Relay failed unexpectedly for group {Group}", r.Group?.Name);
            r.Error = "internal error: " + e.Message;
            if (!http.Response.HasStarted)
                await WriteErrorAsync(r, 500, "internal gateway error; see the gateway log");
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
                // Held budget and limit slots go back however the request ended.
                r.BudgetReservation?.Release();
                r.ReleaseLimitSlot();
            }
        }
    }

    private async Task RunAsync(RelayRequest r, string? pathModel, bool pathStream)
    {
        var http = r.Http;
        var snapshot = snapshots.Current;

        if (ClientAuth.Check(snapshot, ClientAuth.ExtractKey(http.Request), r.Time, out var apiKey) is { } authProblem)
        {
            await WriteErrorAsync(r, 401, authProblem);
            return;
        }
        r.ApiKey = apiKey;

        try
        {
            r.Body = await ReadBodyAsync(http);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(r, 413, BodyTooLargeMessage(http));
            return;
        }

        try
        {
            r.Info = RequestInspector.Inspect(r.Protocol, r.Body);
        }
        catch (ProtocolException e)
        {
            await WriteErrorAsync(r, 400, e.Message);
            return;
        }

        r.RequestedModel = r.Protocol == ApiProtocol.Gemini ? pathModel : r.Info.Model;
        r.Stream = r.Protocol == ApiProtocol.Gemini ? pathStream : r.Info.Stream;
        if (r.Operation != RelayOperation.Generate)
        {
            if (r.Stream && r.Operation == RelayOperation.Images)
            {
                await WriteErrorAsync(r, 400, "streamed image generation is not supported by this gateway: omit `stream`");
                return;
            }
            r.Stream = false;
        }
        if (string.IsNullOrEmpty(r.RequestedModel))
        {
            await WriteErrorAsync(r, 400, "`model` is required: name one of your groups (GET /v1/models lists them)");
            return;
        }

        // A routing rule the request meets decides the group whatever model it named; otherwise names and aliases do.
        var route = snapshot.Routes.Count == 0 ? null
            : snapshot.Routes.Match(new RouteInput(r.RequestedModel, r.Protocol, r.Info, http.Request.Headers));
        r.Route = route?.Rule.Name;
        if (route is not null) log.LogDebug("Route {Route} sends model {Model} to group {Group}", route.Rule.Name, r.RequestedModel, route.Group.Name);
        var group = route?.Group ?? snapshot.ResolveGroup(r.RequestedModel);
        if (group is null)
        {
            await WriteErrorAsync(r, 404, $"model '{r.RequestedModel}' is not a group on this gateway (GET /v1/models lists the groups your key may use)", notFound: true);
            return;
        }
        r.Group = group;
        if (!ClientAuth.MayUse(apiKey!, group))
        {
            await WriteErrorAsync(r, 403, $"this API key may not use group '{group.Name}'");
            return;
        }

        var budget = await budgets.ReserveAsync(apiKey!, http.RequestAborted);
        if (budget.Refusal is { } spent)
        {
            if (budget.RetryAfter is { } wait) http.Response.Headers.RetryAfter = ((long)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Retrying cannot help before the period resets; the official SDKs honour this header.
            http.Response.Headers["x-should-retry"] = "false";
            var type = r.Protocol == ApiProtocol.Anthropic ? "billing_error" : "insufficient_quota";
            await WriteErrorAsync(r, 429, spent, type: type, code: "insufficient_quota");
            return;
        }
        r.BudgetReservation = budget.Reservation;

        if (limiter.TryAcquire(apiKey!, group.Name, out var lease) is { } limited)
        {
            // Transient, unlike a spent budget: the SDKs wait retry-after and try again.
            http.Response.Headers.RetryAfter = limited.RetryAfter;
            await WriteErrorAsync(r, 429, limited.Message);
            return;
        }
        r.LimitLease = lease;

        r.ConversationId = r.Operation == RelayOperation.Generate ? ConversationIdentity(r) : null;
        await RelayToGroupAsync(r, snapshot, group);
    }

    private async Task RelayToGroupAsync(RelayRequest r, RelaySnapshot snapshot, Group group)
    {
        var settings = group.Settings;
        var order = new List<GroupMember>(group.Members);
        Balancers.For(group.Mode).Order(group, order);

        // Members resting after exhaustion go last, not away: if everything rests, still try.
        List<GroupMember>? resting = null;
        foreach (var m in order)
            if (cooldowns.IsCooling(group.Id, m.ChannelId, m.Model)) (resting ??= []).Add(m);
        if (resting is not null && resting.Count < order.Count)
        {
            order.RemoveAll(resting.Contains);
            order.AddRange(resting);
        }

        var affinityKey = r.ConversationId is null ? null : group.Name + "\n" + r.ConversationId;
        long preferredKey = 0;
        if (affinityKey is not null && affinity.TryGet(affinityKey, out var pinned))
        {
            var idx = order.FindIndex(m => m.ChannelId == pinned.ChannelId && m.Model == pinned.Model);
            if (idx > 0 && !cooldowns.IsCooling(group.Id, pinned.ChannelId, pinned.Model) && group.Mode != GroupMode.Manual)
            {
                var m = order[idx];
                order.RemoveAt(idx);
                order.Insert(0, m);
            }
            if (idx >= 0) preferredKey = pinned.KeyId;
        }

        var attemptsPerMember = Math.Max(1, settings.AttemptsPerMember ?? GroupSettings.DefaultAttemptsPerMember);
        var retryInterval = TimeSpan.FromMilliseconds(settings.RetryIntervalMs ?? GroupSettings.DefaultRetryIntervalMs);
        var failures = new List<string>();
        List<string>? unsupported = null;
        (Channel Channel, GroupMember Member)? lastTried = null;
        var sawTimeout = false;
        var sawResponse = false;
        // Set while every failure so far was a rate limit: the client then hears 429 and when to come back.
        var onlyRateLimited = true;
        TimeSpan? retryAfter = null;

        foreach (var member in order)
        {
            if (!snapshot.Channels.TryGetValue(member.ChannelId, out var owner) || !owner.Enabled)
                continue;
            // A multi-protocol channel answers through the endpoint of the client's protocol when it has one.
            var channel = snapshot.Route(owner, r.Protocol, r.Operation);
            if (channel is null)
            {
                (unsupported ??= []).Add($"{owner.Name} ({owner.Type.ToWire()})");
                continue;
            }
            if (channel.BaseUrls.Count == 0) continue;

            byte[]? upstreamBody = null;
            var stripUsage = false;
            var triedKeys = new HashSet<long>();
            var attempts = 0;
            while (attempts < attemptsPerMember)
            {
                var key = keys.Pick(channel, preferredKey, allowSetAside: channel.ProbePolicy is "passive" or "active", triedKeys.Count > 0 ? triedKeys : null);
                if (key is null)
                {
                    if (keys.CoolingLeft(channel) is { } cooling)
                    {
                        failures.Add($"{channel.Name}: every key is rate limited for another {Math.Ceiling(cooling.TotalSeconds):0} s");
                        retryAfter = retryAfter is { } soonest && soonest < cooling ? soonest : cooling;
                    }
                    else
                    {
                        failures.Add($"{channel.Name}: no usable key");
                        onlyRateLimited = false;
                    }
                    break;
                }
                triedKeys.Add(key.Id);
                if (attempts > 0 && retryInterval > TimeSpan.Zero) await Task.Delay(retryInterval, r.Http.RequestAborted);

                if (upstreamBody is null)
                {
                    // After a failed attempt this runs where its reply completed, maybe a socket event thread; a
                    // conversion of a big request is milliseconds of work that belongs on the pool.
                    await EventThreads.LeaveAsync();
                    try
                    {
                        upstreamBody = BuildUpstreamBody(r, channel, member.Model, out stripUsage);
                    }
                    catch (ProtocolException e)
                    {
                        await WriteErrorAsync(r, 400, e.Message);
                        return;
                    }
                }

                var baseUrl = urls.Pick(channel);
                lastTried = (channel, member);
                var outcome = await AttemptAsync(r, group, channel, member, key, baseUrl, upstreamBody, stripUsage);
                switch (outcome.Kind)
                {
                    case OutcomeKind.Done:
                        cooldowns.Clear(group.Id, channel.Id, member.Model);
                        if (affinityKey is not null && r.Status is >= 200 and < 300)
                            affinity.Set(affinityKey, new AffinityTable.Target(channel.Id, member.Model, key.Id),
                                TimeSpan.FromSeconds(settings.AffinitySeconds ?? GroupSettings.DefaultAffinitySeconds));
                        return;
                    case OutcomeKind.NextKey:
                        // The key was refused or rate limited: another key of the same member, without using up an attempt.
                        failures.Add($"{channel.Name}/{member.Model}: {outcome.Error}");
                        sawResponse = true;
                        if (outcome.RetryAfter is { } wait) retryAfter = retryAfter is { } soonest && soonest < wait ? soonest : wait;
                        else onlyRateLimited = false;
                        if (triedKeys.Count >= channel.Keys.Count) attempts = attemptsPerMember;
                        continue;
                    default:
                        failures.Add($"{channel.Name}/{member.Model}: {outcome.Error}");
                        onlyRateLimited = false;
                        sawTimeout |= outcome.Timeout;
                        sawResponse |= !outcome.Timeout;
                        attempts++;
                        break;
                }
            }
            cooldowns.CoolDown(group.Id, channel.Id, member.Model, TimeSpan.FromSeconds(settings.CooldownSeconds ?? GroupSettings.DefaultCooldownSeconds));
        }

        // Exhausted: one clear error naming the group and what failed, never a key. The failure counts against the
        // last channel tried, so per-channel failure rates see it.
        if (lastTried is { } last)
        {
            r.Channel = last.Channel;
            r.UpstreamModel = last.Member.Model;
            r.UpstreamProtocol = last.Channel.Type.ProtocolOf();
        }
        var status = failures.Count == 0 ? 503 : sawTimeout && !sawResponse ? 504 : 502;
        var detail = failures.Count == 0
            ? unsupported is not null
                ? $"its members' channels do not serve {(r.Operation == RelayOperation.Images ? "image generation (it needs an OpenAI-type channel)" : "embeddings (they need an OpenAI-type or Gemini channel)")}: {string.Join(", ", unsupported.Distinct())}"
                : "it has no enabled member with a usable channel"
            : "every attempt failed: " + string.Join("; ", failures.Distinct().Take(8));
        if (failures.Count > 0 && onlyRateLimited && retryAfter is { } after)
        {
            // Every member is rate limited: say so, and when the first key cools down, so SDKs wait instead of hammering.
            status = 429;
            r.Http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        notifier.GroupFailed(group.Name, status, detail);
        await WriteErrorAsync(r, status, $"group '{group.Name}': {detail}");
    }

    private byte[] BuildUpstreamBody(RelayRequest r, Channel channel, string upstreamModel, out bool stripUsage)
    {
        if (r.Operation != RelayOperation.Generate)
        {
            stripUsage = false;
            return OperationBodies.BuildRequest(r, channel, upstreamModel);
        }
        var upstreamProtocol = channel.Type.ProtocolOf();
        if (upstreamProtocol == r.Protocol)
        {
            // Same protocol: bytes pass through; only the model changes (and OpenAI streams ask for usage).
            stripUsage = r.Protocol == ApiProtocol.OpenAIChat && r.Stream && !r.Info.IncludeUsage;
            return BodyRewriter.Rewrite(r.Protocol, r.Body, r.Info, upstreamModel, stripUsage, channel.ParamOverride);
        }
        stripUsage = false;
        var converted = Converter.ConvertRequest(r.Protocol, upstreamProtocol, r.Body, new ConversionOptions
        {
            UpstreamModel = upstreamModel,
            Stream = r.Stream,
            ChannelType = channel.Type,
            ConversationId = r.ConversationId,
            AddCacheBreakpoints = channel.AddCacheBreakpoints,
        });
        return string.IsNullOrWhiteSpace(channel.ParamOverride) ? converted : BodyRewriter.ApplyOverride(converted, channel.ParamOverride);
    }

    private enum OutcomeKind { Done, NextKey, Failed }

    /// <param name="RetryAfter">Set when the upstream rate limited the key: how long it cools down.</param>
    private readonly record struct Outcome(OutcomeKind Kind, string? Error = null, bool Timeout = false, TimeSpan? RetryAfter = null)
    {
        public static readonly Outcome Done = new(OutcomeKind.Done);
    }

    private async Task<Outcome> AttemptAsync(RelayRequest r, Group group, Channel channel, GroupMember member, ChannelKey key, string baseUrl, byte[] body, bool stripUsage)
    {
        var settings = group.Settings;
        var upstreamProtocol = channel.Type.ProtocolOf();
        var started = Stopwatch.GetTimestamp();
        var firstTimeout = TimeSpan.FromSeconds(r.Stream
            ? settings.FirstEventTimeoutSeconds ?? GroupSettings.DefaultFirstEventTimeoutSeconds
            : settings.ResponseTimeoutSeconds ?? GroupSettings.DefaultResponseTimeoutSeconds);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(r.Http.RequestAborted);
        cts.CancelAfter(firstTimeout);
        HttpResponseMessage? response = null;
        int status = 0;
        string? error = null;
        var timeout = false;
        try
        {
            using var request = UpstreamRequest.Create(channel, baseUrl, member.Model, r.Stream, key, body, r.Protocol == ApiProtocol.Anthropic ? r.Http.Request.Headers : null,
                r.Operation, OperationBodies.GeminiBatch(r));
            try
            {
                response = await clients.SenderFor(channel.Proxy).SendAsync(request, cts.Token);
            }
            // The bare handler may surface a cancellation as the socket error it caused (HttpClient reported it as a
            // cancellation): after the attempt's timeout that is still a timeout, and a client that left is not the
            // channel's failure.
            catch (Exception e) when ((e is OperationCanceledException || e is HttpRequestException && cts.IsCancellationRequested)
                && !r.Http.RequestAborted.IsCancellationRequested)
            {
                timeout = true;
                error = $"no response within {firstTimeout.TotalSeconds:0} s";
                return new Outcome(OutcomeKind.Failed, error, Timeout: true);
            }
            catch (HttpRequestException e)
            {
                if (r.Http.RequestAborted.IsCancellationRequested) throw new OperationCanceledException(r.Http.RequestAborted);
                urls.ReportFailure(channel, baseUrl);
                error = "connection failed: " + Describe(e);
                timeout = e.InnerException is TimeoutException || e.HttpRequestError == HttpRequestError.Unknown && e.InnerException is OperationCanceledException;
                return new Outcome(OutcomeKind.Failed, error, timeout);
            }

            status = (int)response.StatusCode;
            urls.ReportLatency(channel, baseUrl, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            if (status is < 200 or >= 300)
            {
                var errorBody = await ReadLimitedAsync(response, MaxErrorBodyBytes, cts.Token);
                error = $"upstream {status}: {Summarize(errorBody)}";
                switch (status)
                {
                    case 401 or 403:
                        keys.ReportRejected(key, status, Summarize(errorBody));
                        return new Outcome(OutcomeKind.NextKey, error);
                    case 429:
                        return new Outcome(OutcomeKind.NextKey, error, RetryAfter: keys.ReportRateLimited(key, RetryAfter(response)));
                    case 408 or >= 500:
                        keys.ReportFailure(key, $"upstream {status}");
                        return new Outcome(OutcomeKind.Failed, error);
                    default:
                        // The request itself is wrong (400, 404, 413, 422): another upstream would say the same.
                        keys.ReportSuccess(key, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        await ReturnUpstreamErrorAsync(r, channel, member, upstreamProtocol, status, errorBody);
                        return Outcome.Done;
                }
            }

            r.Channel = channel;
            r.UpstreamModel = member.Model;
            r.UpstreamProtocol = upstreamProtocol;
            var result = r.Stream
                ? await RelayStreamAsync(r, response, upstreamProtocol, stripUsage, cts, started, settings)
                : await RelayResponseAsync(r, response, upstreamProtocol, cts.Token);
            if (result.Kind == OutcomeKind.Done)
            {
                keys.ReportSuccess(key, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return result;
            }
            timeout = result.Timeout;
            error = result.Error;
            if (!timeout) keys.ReportFailure(key, result.Error ?? "failed");
            r.Channel = null;
            r.UpstreamModel = null;
            r.UpstreamProtocol = null;
            return result;
        }
        finally
        {
            response?.Dispose();
            // No status and no error: the client went away mid-attempt, which says nothing about the channel.
            if (status != 0 || error is not null)
            {
                // A stream cut after it was committed fails the request (r.Error), not the attempt's own error.
                var failure = error ?? (r.Channel == channel ? r.Error : null);
                // A client mistake the upstream rightly refused (400, 404, 422...) says nothing bad about the channel either.
                var channelOk = failure is null ? status is >= 200 and < 300 : error is not null && status is >= 400 and < 500 and not (401 or 403 or 408 or 429);
                health.Record(channel, key.Id, channelOk, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, status, channelOk ? null : failure);
            }
            r.Attempts.Add(new RequestAttempt
            {
                ChannelId = channel.Id,
                ChannelName = channel.Name,
                BaseUrl = baseUrl,
                Model = member.Model,
                KeyId = key.Id,
                Status = status,
                Error = error,
                DurationMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            });
        }
    }

    private const int LargeReplyBytes = 256 * 1024;

    private async Task<Outcome> RelayResponseAsync(RelayRequest r, HttpResponseMessage response, ApiProtocol upstreamProtocol, CancellationToken ct)
    {
        byte[] upstreamBody;
        try
        {
            upstreamBody = await response.Content.ReadAsByteArrayAsync(ct);
            // A big reply (embeddings, images) takes milliseconds to parse and convert: not on a socket event thread,
            // where every other socket it serves would wait (server.inline_completions).
            if (upstreamBody.Length >= LargeReplyBytes) await EventThreads.LeaveAsync();
        }
        catch (OperationCanceledException) when (!r.Http.RequestAborted.IsCancellationRequested)
        {
            return new Outcome(OutcomeKind.Failed, "response body not complete within the response timeout", Timeout: true);
        }
        catch (HttpRequestException e)
        {
            return new Outcome(OutcomeKind.Failed, "response body cut: " + Describe(e));
        }

        byte[] clientBody;
        if (r.Operation != RelayOperation.Generate)
        {
            try
            {
                (clientBody, var usage) = OperationBodies.ReadResponse(r, upstreamProtocol, upstreamBody);
                r.Usage = usage;
            }
            catch (ProtocolException e)
            {
                return new Outcome(OutcomeKind.Failed, "upstream reply could not be read: " + e.Message);
            }
        }
        else if (upstreamProtocol == r.Protocol)
        {
            // A truncated or garbled 200 would break the client's SDK: it is a failed attempt, not a reply.
            if (!UsageJson.TryReadResponse(upstreamProtocol, upstreamBody, out var usage))
                return new Outcome(OutcomeKind.Failed, "upstream reply is not valid JSON");
            clientBody = upstreamBody;
            r.Usage = usage;
        }
        else
        {
            try
            {
                var converted = Converter.ConvertResponse(upstreamProtocol, r.Protocol, upstreamBody, r.RequestedModel!);
                clientBody = converted.Body;
                r.Usage = converted.Usage;
            }
            catch (ProtocolException e)
            {
                return new Outcome(OutcomeKind.Failed, "upstream reply could not be read: " + e.Message);
            }
        }

        var http = r.Http;
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = clientBody.Length;
        r.TtftMs = r.ElapsedMs;
        r.ResponseBody = clientBody;
        r.Status = 200;
        r.ReleaseLimitSlot();
        await http.Response.Body.WriteAsync(clientBody, http.RequestAborted);
        return Outcome.Done;
    }

    /// <summary>
    /// Streams the upstream's SSE to the client event by event. Events before the first real content are held back,
    /// so a stalled or failing upstream can still be replaced; after it, bytes flow through as they arrive.
    /// </summary>
    private async Task<Outcome> RelayStreamAsync(RelayRequest r, HttpResponseMessage response, ApiProtocol upstreamProtocol, bool stripUsage,
        CancellationTokenSource cts, long started, GroupSettings settings)
    {
        var http = r.Http;
        var passthrough = upstreamProtocol == r.Protocol;
        var observer = passthrough ? new StreamObserver(upstreamProtocol) : null;
        var transcoder = passthrough ? null : Converter.CreateStreamTranscoder(upstreamProtocol, r.Protocol, r.RequestedModel!);
        var idle = TimeSpan.FromSeconds(settings.StreamIdleTimeoutSeconds ?? GroupSettings.DefaultStreamIdleTimeoutSeconds);

        await using var upstream = await response.Content.ReadAsStreamAsync(cts.Token);
        var reader = PipeReader.Create(upstream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024));
        using var pending = new PooledBufferWriter(16 * 1024);
        PipeWriter? client = null;
        string? endError = null;

        try
        {
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await reader.ReadAsync(cts.Token);
                }
                catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
                {
                    if (client is null)
                        return new Outcome(OutcomeKind.Failed, $"no content within {(settings.FirstEventTimeoutSeconds ?? GroupSettings.DefaultFirstEventTimeoutSeconds)} s", Timeout: true);
                    endError = $"upstream stream stalled: nothing for {idle.TotalSeconds:0} s";
                    break;
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    if (client is null) return new Outcome(OutcomeKind.Failed, "stream cut before content: " + e.Message);
                    endError = "upstream stream cut: " + e.Message;
                    break;
                }

                var buffer = read.Buffer;
                var wroteContent = false;
                try
                {
                    // Events gather in `pending` and go to the client in one write per read: a write per event took
                    // Kestrel's output lock and chunk bookkeeping 50 times for a typical stream.
                    IBufferWriter<byte> output = pending;
                    while (SseParser.TryRead(ref buffer, out var ev))
                    {
                        if (passthrough)
                        {
                            // Forwarded bytes must parse on the client; garbage ends the attempt like a cut would.
                            if (ev.HasData && !ev.IsDone && !JsonShape.LooksLikeObject(ev.DataSpan))
                                throw new InvalidDataException("an event's data is not a JSON object");
                            var kind = observer!.Observe(ev);
                            if (kind == StreamEventKind.Error && client is null)
                                return new Outcome(OutcomeKind.Failed, "upstream stream error: " + observer.ErrorMessage);
                            if (kind == StreamEventKind.UsageOnly && stripUsage) continue;
                            foreach (var seg in ev.Raw) output.Write(seg.Span);
                            wroteContent |= kind is StreamEventKind.Content or StreamEventKind.Error;
                        }
                        else
                        {
                            wroteContent |= transcoder!.OnEvent(ev, output);
                            if (transcoder.IsClosed)
                            {
                                // An upstream error before any content: nothing reached the client, try elsewhere.
                                if (client is null && !wroteContent)
                                    return new Outcome(OutcomeKind.Failed, "upstream stream error before content");
                                break;
                            }
                        }
                    }
                }
                catch (InvalidDataException e)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (client is null) return new Outcome(OutcomeKind.Failed, "malformed stream: " + e.Message);
                    endError = "malformed upstream stream: " + e.Message;
                    client.Write(pending.WrittenSpan); // the good events before the garbage
                    pending.ResetWrittenCount();
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);

                if (client is null && wroteContent)
                {
                    // First real content: commit to this upstream and open the client's stream.
                    client = StartClientStream(r);
                    r.TtftMs = (long)Stopwatch.GetElapsedTime(r.StartedAt).TotalMilliseconds;
                    if (recorder.CapturesBodies) r.ResponseBody = pending.WrittenSpan.ToArray();
                }
                if (client is not null)
                {
                    if (pending.WrittenCount > 0)
                    {
                        client.Write(pending.WrittenSpan);
                        pending.ResetWrittenCount();
                    }
                    cts.CancelAfter(idle);
                    var flush = await client.FlushAsync(http.RequestAborted);
                    if (flush.IsCompleted || flush.IsCanceled) throw new OperationCanceledException(http.RequestAborted);
                }

                if (read.IsCompleted || transcoder is { IsClosed: true }) break;
            }

            if (client is null)
            {
                // Upstream ended without any content (empty stream, or only framing): nothing was sent; try elsewhere.
                return new Outcome(OutcomeKind.Failed, observer?.ErrorMessage ?? "upstream stream ended without content");
            }

            if (passthrough)
            {
                r.Usage = observer!.Usage;
                if (endError is null && !observer.Finished) endError = "upstream stream ended before completion";
                if (endError is not null) client.Write(ProtocolErrors.StreamEvent(r.Protocol, 502, endError));
            }
            else
            {
                // Complete/Fail write nothing once the transcoder has closed the client's stream itself.
                if (endError is null) transcoder!.Complete(client);
                else transcoder!.Fail(endError, client);
                r.Usage = transcoder.Usage;
                // A stream the transcoder ended with an in-band error (malformed or failed upstream) is not a success.
                endError ??= transcoder.Error;
            }
            r.Error = endError;
            r.ReleaseLimitSlot();
            await client.FlushAsync(http.RequestAborted);
            return Outcome.Done;
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static PipeWriter StartClientStream(RelayRequest r)
    {
        var res = r.Http.Response;
        res.StatusCode = 200;
        res.ContentType = "text/event-stream; charset=utf-8";
        res.Headers.CacheControl = "no-cache";
        res.Headers["X-Accel-Buffering"] = "no"; // nginx in front must not buffer the stream
        r.Http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        r.Status = 200;
        return res.BodyWriter;
    }

    private async Task ReturnUpstreamErrorAsync(RelayRequest r, Channel channel, GroupMember member, ApiProtocol upstreamProtocol, int status, byte[] errorBody)
    {
        r.Channel = channel;
        r.UpstreamModel = member.Model;
        r.UpstreamProtocol = upstreamProtocol;
        r.Status = status;
        r.Error = $"upstream {status}: {Summarize(errorBody)}";
        byte[] body;
        int clientStatus;
        if (upstreamProtocol == r.Protocol || r.Operation != RelayOperation.Generate && OperationBodies.Passthrough(r, upstreamProtocol))
        {
            (clientStatus, body) = (status, errorBody);
        }
        else
        {
            (clientStatus, body) = Converter.ConvertError(upstreamProtocol, r.Protocol, status, errorBody);
        }
        r.Http.Response.StatusCode = clientStatus;
        r.Http.Response.ContentType = "application/json";
        r.ResponseBody = body;
        r.ReleaseLimitSlot();
        await r.Http.Response.Body.WriteAsync(body, r.Http.RequestAborted);
    }

    private async Task WriteErrorAsync(RelayRequest r, int status, string message, bool notFound = false, string? type = null, string? code = null)
    {
        r.Status = status;
        r.Error = message;
        var res = r.Http.Response;
        if (res.HasStarted) return;
        res.StatusCode = status;
        res.ContentType = "application/json";
        type ??= notFound && r.Protocol is ApiProtocol.OpenAIChat or ApiProtocol.OpenAIResponses ? "model_not_found" : null;
        var body = ProtocolErrors.Body(r.Protocol, status, message, type, code);
        r.ResponseBody = body;
        r.ReleaseLimitSlot();
        await res.Body.WriteAsync(body, r.Http.RequestAborted);
    }

    /// <summary>The whole request body (Kestrel enforces server.max_body_mb and throws 413 past it).</summary>
    internal static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        var size = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (http.Request.ContentLength is { } length && size is { IsReadOnly: false, MaxRequestBodySize: { } max } && length > max)
        {
            // Refused up front, the client would meet a reset mid-upload instead of the 413: read what it sends
            // (bounded in size and time) and throw it away first.
            http.Items[BodyLimitKey] = max;
            if (length <= 4 * max)
            {
                size.MaxRequestBodySize = length;
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                try
                {
                    while (true)
                    {
                        var read = await http.Request.BodyReader.ReadAsync(cts.Token);
                        http.Request.BodyReader.AdvanceTo(read.Buffer.End);
                        if (read.IsCompleted) break;
                    }
                }
                catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested) { }
            }
            throw new BadHttpRequestException("request body too large", StatusCodes.Status413PayloadTooLarge);
        }
        var reader = http.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(http.RequestAborted);
            if (read.IsCompleted)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private const string BodyLimitKey = "octopus.body_limit";

    internal static string BodyTooLargeMessage(HttpContext http)
    {
        var limit = http.Items.TryGetValue(BodyLimitKey, out var v) && v is long l ? l : http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        return $"request body is larger than the gateway's limit ({limit / (1024 * 1024)} MiB; server.max_body_mb)";
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, CancellationToken ct)
    {
        try
        {
            await using var s = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[limit];
            var total = 0;
            int n;
            while (total < limit && (n = await s.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += n;
            return buffer[..total];
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return [];
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        if (ra?.Delta is { } d) return d;
        if (ra?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    /// <summary>A short, single-line excerpt of an upstream error body for logs and client messages.</summary>
    internal static string Summarize(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return "(empty body)";
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 600)]);
        // Prefer the message field when it is JSON.
        var i = text.IndexOf("\"message\"", StringComparison.Ordinal);
        if (i >= 0)
        {
            var start = text.IndexOf('"', text.IndexOf(':', i) + 1);
            var end = start < 0 ? -1 : text.IndexOf('"', start + 1);
            while (end > 0 && text[end - 1] == '\\') end = text.IndexOf('"', end + 1);
            if (start >= 0 && end > start) text = text[(start + 1)..end];
        }
        text = text.ReplaceLineEndings(" ");
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    private static string Describe(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.ConnectionError => "connection refused or unreachable",
        HttpRequestError.NameResolutionError => "host name not found",
        HttpRequestError.SecureConnectionError => "TLS handshake failed",
        HttpRequestError.ResponseEnded => "upstream closed the connection",
        HttpRequestError.InvalidResponse => "invalid HTTP response",
        _ => e.InnerException is TimeoutException or OperationCanceledException ? "connect timeout" : e.Message,
    };

    /// <summary>
    /// The conversation a request belongs to: what clients send (Claude Code's session header or metadata.user_id,
    /// Codex's session_id, prompt_cache_key, user), else a hash of the client key with the conversation's start.
    /// </summary>
    private static string? ConversationIdentity(RelayRequest r)
    {
        var h = r.Http.Request.Headers;
        var session = h["X-Claude-Code-Session-Id"].ToString();
        if (session.Length == 0) session = h["session_id"].ToString();
        if (session.Length == 0) session = h["x-session-id"].ToString();
        if (session.Length == 0) session = r.Info.SessionHint ?? "";
        if (session.Length > 0) return "s:" + session;

        var first = r.Info.FirstMessageRange;
        var system = r.Info.SystemRange;
        if (first.End.Value <= first.Start.Value && system.End.Value <= system.Start.Value) return null;
        // Not a secret (the upstream that sees it as a cache key already has the prompt): a fast non-cryptographic
        // hash, stable across restarts so upstream prompt caches stay warm. Chained one-shot hashes allocate nothing;
        // the system prompt's length is in the second seed, so moving text between the two parts changes the result.
        var systemBytes = r.Body.AsSpan()[system];
        var head = XxHash128.HashToUInt128(systemBytes, r.ApiKey?.Id ?? 0);
        var id = XxHash128.HashToUInt128(r.Body.AsSpan()[first], (long)(ulong)head ^ ((long)systemBytes.Length << 40));
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, id);
        return "h:" + Convert.ToHexStringLower(bytes);
    }
}
