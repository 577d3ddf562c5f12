using Octopus.Pricing;
using Octopus.Relay;

namespace Octopus.Stats;

/// <summary>
/// The relay's one exit to the side: prices the request, adds it to the in-memory stats, queues its log line (and
/// body, per the capture policy) and updates the metrics. Never touches the database itself.
/// </summary>
internal sealed class RequestRecorder(StatsAggregator aggregator, PriceBook prices, RequestLogWriter logs, RelayMetrics metrics, BudgetTracker budgets, Configuration.OctopusConfig config) : IRelayRecorder
{
    private volatile BodyCapturePolicy _capture = BodyCapturePolicy.Off;

    public BodyCapturePolicy Capture
    {
        get => _capture;
        set => _capture = value;
    }

    public bool CapturesBodies => config.StatsEnabled && _capture.Mode != BodyCapturePolicy.Off.Mode;

    public void Record(RelayRequest r)
    {
        var ok = r.Status is >= 200 and < 300 && r.Error is null;
        var usage = r.Usage;
        var cost = prices.Cost(r.UpstreamModel, usage);
        var latency = r.ElapsedMs;
        metrics.Observe(r, ok, cost, latency);

        // Requests that never got past authentication are metrics only: no key to charge, nothing to log.
        if (r.ApiKey is null) return;
        budgets.Record(r.ApiKey.Id, r.Time, ok, cost);
        if (!config.StatsEnabled) return;

        if (r.Group is not null)
        {
            var key = new StatsAggregator.StatsKey(aggregator.HourOf(r.Time), r.ApiKey.Id, r.Group.Name, r.Channel?.Id ?? 0, r.UpstreamModel ?? "");
            aggregator.Add(key, ok, usage, cost, latency, r.TtftMs ?? 0);
        }

        var body = _capture.Capture(r.LogId, r.Time, !ok, r.Body, r.ResponseBody);
        logs.Enqueue(r.ToLog(cost), body);
    }
}
