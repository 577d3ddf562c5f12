namespace Octopus.Configuration;

/// <summary>Start-up configuration from data/config.json and OCTOPUS_* environment variables.</summary>
internal sealed class OctopusConfig
{
    public string Host { get; set; } = "0.0.0.0";
    public int Port { get; set; } = 8080;
    /// <summary>Largest request body accepted on any endpoint, in MiB.</summary>
    public int MaxBodyMb { get; set; } = 32;
    /// <summary>How long SIGTERM waits for in-flight requests before closing them.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;
    /// <summary>
    /// Request code starts on the socket's I/O thread (no thread-pool hop): ~10 µs less latency per request when idle,
    /// but more CPU per request and lower throughput under concurrent load, so off by default.
    /// </summary>
    public bool InlineScheduling { get; set; }
    /// <summary>
    /// Socket completions run their continuation on the socket engine's thread instead of queuing it to the thread
    /// pool (the runtime's DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS): less CPU per relayed request.
    /// </summary>
    public bool InlineCompletions { get; set; } = true;
    public string DatabaseType { get; set; } = "sqlite";
    public string DatabasePath { get; set; } = "data/data.db";
    public string DatabaseUrl { get; set; } = "";
    public string LogLevel { get; set; } = "info";
    /// <summary>Initial admin password on first start (empty: "admin", which must then be changed).</summary>
    public string AdminPassword { get; set; } = "";
    /// <summary>Record per-request stats and logs (off only to measure their cost in benchmarks).</summary>
    public bool StatsEnabled { get; set; } = true;
    /// <summary>Bearer token required by /metrics (empty: no token).</summary>
    public string MetricsToken { get; set; } = "";

    /// <summary>The file this configuration was read from.</summary>
    public string SourcePath { get; set; } = "";
}
