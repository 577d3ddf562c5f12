using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Octopus.Relay;
using Octopus.Relay.Health;

namespace Octopus.Stats;

/// <summary>
/// Prometheus counters and histograms kept in memory since start (counters reset on restart, as Prometheus
/// expects). Rendered in the text exposition format by GET /metrics.
/// </summary>
internal sealed class RelayMetrics
{
    private static readonly double[] Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static readonly string[] TokenTypes = ["cache_read", "cache_write", "input", "output", "reasoning"]; // rendered in this order

    // One series per (group, final channel): a request does one keyed lookup, then counts without hashing strings.
    private readonly ConcurrentDictionary<(string Group, string Channel), Series> _series = new();
    private readonly ConcurrentDictionary<string, GroupHistograms> _groups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long[]> _upstreamErrors = new(StringComparer.Ordinal);

    public void Observe(RelayRequest r, bool ok, double cost, long latencyMs)
    {
        var group = r.Group?.Name ?? "";
        var channel = r.Channel?.Name ?? "";
        var series = _series.GetOrAdd((group, channel), static (k, groups) => new Series(groups.GetOrAdd(k.Group, static _ => new GroupHistograms())), _groups);
        Interlocked.Increment(ref series.Requests.GetOrAdd(r.Status, static _ => new long[1])[0]);
        foreach (var a in r.Attempts)
            if (a.Error is not null && !(ok && a == r.Attempts[^1]))
                Interlocked.Increment(ref _upstreamErrors.GetOrAdd(a.ChannelName, static _ => new long[1])[0]);
        if (r.Group is null) return;

        var u = r.Usage;
        series.AddTokens(0, u.CacheReadTokens);
        series.AddTokens(1, u.CacheWriteTokens);
        series.AddTokens(2, u.InputTokens);
        series.AddTokens(3, u.OutputTokens);
        series.AddTokens(4, u.ReasoningTokens);
        if (cost > 0)
            lock (series) series.Cost += cost;
        series.Histograms.Latency.Observe(latencyMs / 1000d);
        if (r.TtftMs is { } ttft) series.Histograms.Ttft.Observe(ttft / 1000d);
    }

    /// <summary>Counts per status, for tests and the dashboard.</summary>
    public long RequestCount(string group) =>
        _series.Where(kv => kv.Key.Group == group).Sum(kv => kv.Value.Requests.Sum(s => Interlocked.Read(ref s.Value[0])));

    public string Render(KeyPool keys, IEnumerable<(string Channel, Domain.ChannelKey Key)> allKeys, long flushFailures, long logDrops, long logWriteFailures)
    {
        var sb = new StringBuilder(4096);
        Header(sb, "octopus_requests_total", "counter", "Relay requests by group, final channel and HTTP status.");
        var series = _series.OrderBy(k => k.Key.Group, StringComparer.Ordinal).ThenBy(k => k.Key.Channel, StringComparer.Ordinal).ToList();
        foreach (var ((g, c), x) in series)
            foreach (var (s, v) in x.Requests.OrderBy(k => k.Key))
                sb.Append("octopus_requests_total{group=\"").Append(Esc(g)).Append("\",channel=\"").Append(Esc(c)).Append("\",status=\"").Append(s).Append("\"} ").Append(Interlocked.Read(ref v[0])).Append('\n');

        Header(sb, "octopus_tokens_total", "counter", "Tokens by group, channel and type (input includes cached).");
        foreach (var ((g, c), x) in series)
            for (var t = 0; t < TokenTypes.Length; t++)
                if (x.TokensSeen[t])
                    sb.Append("octopus_tokens_total{group=\"").Append(Esc(g)).Append("\",channel=\"").Append(Esc(c)).Append("\",type=\"").Append(TokenTypes[t]).Append("\"} ").Append(Interlocked.Read(ref x.Tokens[t])).Append('\n');

        Header(sb, "octopus_cost_usd_total", "counter", "Cost in USD by group and channel.");
        foreach (var ((g, c), x) in series)
        {
            double value;
            lock (x) value = x.Cost;
            if (value <= 0) continue;
            sb.Append("octopus_cost_usd_total{group=\"").Append(Esc(g)).Append("\",channel=\"").Append(Esc(c)).Append("\"} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        Header(sb, "octopus_upstream_errors_total", "counter", "Failed upstream attempts by channel.");
        foreach (var (c, v) in _upstreamErrors.OrderBy(k => k.Key))
            sb.Append("octopus_upstream_errors_total{channel=\"").Append(Esc(c)).Append("\"} ").Append(Interlocked.Read(ref v[0])).Append('\n');

        var groups = _groups.OrderBy(k => k.Key, StringComparer.Ordinal).ToList();
        RenderHistograms(sb, "octopus_request_duration_seconds", "Request latency by group.", groups.Select(k => (k.Key, k.Value.Latency)));
        RenderHistograms(sb, "octopus_time_to_first_token_seconds", "Time to first content by group.", groups.Select(k => (k.Key, k.Value.Ttft)));

        Header(sb, "octopus_upstream_key_up", "gauge", "1 when an upstream key is usable, 0 when set aside or disabled.");
        foreach (var (channel, key) in allKeys)
        {
            var up = key.Enabled && !(keys.TryGetState(key.Id, out var s) ? s.SetAside : key.Status == Domain.KeyStatus.SetAside);
            sb.Append("octopus_upstream_key_up{channel=\"").Append(Esc(channel)).Append("\",key_id=\"").Append(key.Id).Append("\"} ").Append(up ? 1 : 0).Append('\n');
        }

        Header(sb, "octopus_stats_flush_failures_total", "counter", "Stats flushes the database refused (counts were kept and retried).");
        sb.Append("octopus_stats_flush_failures_total ").Append(flushFailures).Append('\n');
        Header(sb, "octopus_log_write_failures_total", "counter", "Request log batch writes that failed and were retried.");
        sb.Append("octopus_log_write_failures_total ").Append(logWriteFailures).Append('\n');
        Header(sb, "octopus_logs_dropped_total", "counter", "Request logs dropped because the write queue was full.");
        sb.Append("octopus_logs_dropped_total ").Append(logDrops).Append('\n');
        return sb.ToString();
    }

    private static void RenderHistograms(StringBuilder sb, string name, string help, IEnumerable<(string Group, Histogram Histogram)> histograms)
    {
        Header(sb, name, "histogram", help);
        foreach (var (group, h) in histograms)
        {
            if (h.Empty) continue;
            long cumulative = 0;
            long[] counts;
            double sum;
            lock (h)
            {
                counts = [.. h.Counts];
                sum = h.Sum;
            }
            for (var i = 0; i < Buckets.Length; i++)
            {
                cumulative += counts[i];
                sb.Append(name).Append("_bucket{group=\"").Append(Esc(group)).Append("\",le=\"").Append(Buckets[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(cumulative).Append('\n');
            }
            cumulative += counts[^1];
            sb.Append(name).Append("_bucket{group=\"").Append(Esc(group)).Append("\",le=\"+Inf\"} ").Append(cumulative).Append('\n');
            sb.Append(name).Append("_sum{group=\"").Append(Esc(group)).Append("\"} ").Append(sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(name).Append("_count{group=\"").Append(Esc(group)).Append("\"} ").Append(cumulative).Append('\n');
        }
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Esc(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class Series(GroupHistograms histograms)
    {
        public readonly GroupHistograms Histograms = histograms;
        public readonly ConcurrentDictionary<int, long[]> Requests = new();
        public readonly long[] Tokens = new long[TokenTypes.Length];
        /// <summary>A token type is rendered once it was counted, as before with one series per type.</summary>
        public readonly bool[] TokensSeen = new bool[TokenTypes.Length];
        public double Cost;

        public void AddTokens(int type, long n)
        {
            if (n == 0) return;
            TokensSeen[type] = true;
            Interlocked.Add(ref Tokens[type], n);
        }
    }

    private sealed class GroupHistograms
    {
        public readonly Histogram Latency = new();
        public readonly Histogram Ttft = new();
    }

    private sealed class Histogram
    {
        public readonly long[] Counts = new long[Buckets.Length + 1];
        public double Sum;
        public bool Empty => Volatile.Read(ref _observed) == 0;
        private int _observed;

        public void Observe(double seconds)
        {
            var i = 0;
            while (i < Buckets.Length && seconds > Buckets[i]) i++;
            lock (this)
            {
                Counts[i]++;
                Sum += seconds;
            }
            _observed = 1;
        }
    }
}
