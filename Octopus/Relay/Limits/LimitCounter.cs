namespace Octopus.Relay.Limits;

/// <summary>
/// One key's (or one key-and-group's) request window, token window and requests in flight. A short lock per
/// counter: uncontended it costs tens of nanoseconds, and only requests of the same key ever meet on it.
/// </summary>
internal sealed class LimitCounter
{
    private readonly Lock _gate = new();
    private readonly SlidingWindow _requests = new();
    private readonly SlidingWindow _tokens = new();
    private int _inFlight;

    /// <summary>
    /// Admits one request (counts it and takes a concurrency slot) or says which limit refuses it and for how long.
    /// Tokens are only known when a request finishes, so a window under its token limit admits the next request
    /// whatever it will cost (the usual gateway behaviour): one large request can overshoot, the next ones wait.
    /// </summary>
    public LimitRefusal? TryAcquire(int? rpm, int? tpm, int? maxConcurrency, long nowS)
    {
        lock (_gate)
        {
            if (rpm is { } r && _requests.Sum(nowS) >= r)
                return new LimitRefusal($"{r} requests per minute", _requests.SecondsUntilBelow(nowS, r));
            if (tpm is { } t && _tokens.Sum(nowS) >= t)
                return new LimitRefusal($"{t} tokens per minute", _tokens.SecondsUntilBelow(nowS, t));
            if (maxConcurrency is { } c && _inFlight >= c)
                return new LimitRefusal($"{c} concurrent request{(c == 1 ? "" : "s")}", 1);
            _requests.Add(nowS, 1);
            _inFlight++;
            return null;
        }
    }

    /// <summary>Undoes an admission that a later check refused.</summary>
    public void Rollback(long admittedS)
    {
        lock (_gate)
        {
            _requests.Remove(admittedS, 1);
            _inFlight = Math.Max(0, _inFlight - 1);
        }
    }

    /// <summary>The request finished (however it ended): free its slot and count its tokens.</summary>
    public void Release(long tokens, long nowS)
    {
        lock (_gate)
        {
            _inFlight = Math.Max(0, _inFlight - 1);
            if (tokens > 0) _tokens.Add(nowS, tokens);
        }
    }

    public LimitUse Use(long nowS)
    {
        lock (_gate) return new LimitUse(_requests.Sum(nowS), _tokens.Sum(nowS), _inFlight);
    }
}

/// <summary>Which limit refused a request and the whole seconds until it admits again.</summary>
internal sealed record LimitRefusal(string Limit, long RetryAfterSeconds)
{
    /// <summary>What the client reads in its protocol's 429 error.</summary>
    public string Message => $"rate limit reached: {Limit}; retry in {RetryAfterSeconds} s";

    /// <summary>The `retry-after` header value: the SDKs wait that long and try again.</summary>
    public string RetryAfter => RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A window's current use: requests and tokens in the last 60 s, requests in flight.</summary>
internal readonly record struct LimitUse(long Requests, long Tokens, int InFlight);
