using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Octopus.Configuration;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;

// Request-log batch insert on SQLite, time per row (and the process CPU per row of the store): the store's insert (SqliteLogInsert: eight rows a statement, direct binds) beside the
// same rows through a prepared Microsoft.Data.Sqlite command, as the store wrote them before. Batches of 500 (the
// log writer's batch), alternating, medians. Usage: scripts/bench-logs.sh [batches]
// BENCH_LOGS_STORE_ONLY=1 times the store alone (for a profiler).
var batches = args.Length > 0 ? int.Parse(args[0]) : 60;
const int BatchSize = 500;
var path = Path.Combine(Path.GetTempPath(), $"octopus-bench-logs-{Environment.ProcessId}.db");
var db = Database.Create(new OctopusConfig { DatabaseType = "sqlite", DatabasePath = path });
await db.MigrateAsync(default);
var store = new RequestLogStore(db);

long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
RequestLog Make(int i) => new()
{
    Id = LogIds.Next(now), Time = now, ApiKeyId = 1, ApiKeyName = "bench", ClientIp = "127.0.0.1", RequestedModel = "bench", GroupName = "bench",
    ChannelId = 1, ChannelName = "mock", UpstreamModel = "gpt-4o-mini", Status = 200, LatencyMs = 3 + i % 7, TtftMs = 2, InputTokens = 12, OutputTokens = 40,
    Cost = 0.0001, ProtocolIn = "openai_chat", ProtocolOut = "openai_chat",
    Attempts = [new RequestAttempt { ChannelId = 1, ChannelName = "mock", BaseUrl = "http://127.0.0.1:18080/v1", Model = "gpt-4o-mini", KeyId = 1, Status = 200, DurationMs = 3 }],
};

const string Columns =
    "id, started_at, api_key_id, api_key_name, client_ip, requested_model, group_name, channel_id, channel_name, upstream_model, status, error, " +
    "latency_ms, ttft_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost, stream, protocol_in, protocol_out, attempts";
string[] names = ["id", "t", "kid", "kname", "ip", "rm", "g", "cid", "cname", "um", "st", "err", "lat", "ttft", "in", "out", "cr", "cw", "rs", "cost", "str", "pin", "pout", "att"];

async Task ViaCommand(List<RequestLog> logs)
{
    await using var conn = new SqliteConnection($"Data Source={path}");
    await conn.OpenAsync();
    await using var tx = conn.BeginTransaction();
    await using var cmd = conn.CreateCommand();
    cmd.Transaction = tx;
    cmd.CommandText = $"INSERT INTO request_logs ({Columns}) VALUES ({string.Join(", ", names.Select(n => "@" + n))})";
    var ps = names.Select(n => cmd.Parameters.Add(new SqliteParameter { ParameterName = "@" + n })).ToArray();
    foreach (var l in logs)
    {
        object?[] v = [l.Id, l.Time, l.ApiKeyId, l.ApiKeyName, l.ClientIp, l.RequestedModel, l.GroupName, l.ChannelId, l.ChannelName, l.UpstreamModel, (long)l.Status,
            l.Error, l.LatencyMs, l.TtftMs, l.InputTokens, l.OutputTokens, l.CacheReadTokens, l.CacheWriteTokens, l.ReasoningTokens, l.Cost, l.Stream,
            l.ProtocolIn, l.ProtocolOut, JsonColumn.Write(l.Attempts)];
        for (var i = 0; i < ps.Length; i++) ps[i].Value = v[i] ?? DBNull.Value;
        await cmd.ExecuteNonQueryAsync();
    }
    await tx.CommitAsync();
}

var sqliteApi = new List<double>();
var command = new List<double>();
var storeCpu = new List<double>();
for (var b = 0; b < batches; b++)
{
    var logs = Enumerable.Range(0, BatchSize).Select(Make).ToList();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    await store.InsertAsync(logs, [], default);
    sqliteApi.Add(sw.Elapsed.TotalMicroseconds / BatchSize);
    if (b >= 20) storeCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds);
    if (Environment.GetEnvironmentVariable("BENCH_LOGS_STORE_ONLY") is not null) { command.Add(0); continue; }
    logs = Enumerable.Range(0, BatchSize).Select(Make).ToList();
    sw.Restart();
    await ViaCommand(logs);
    command.Add(sw.Elapsed.TotalMicroseconds / BatchSize);
}
double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }
// Single-threaded and synchronous underneath, so wall time is this thread's CPU time (plus the WAL writes).
Console.WriteLine($"request-log insert on SQLite, {batches} batches of {BatchSize} rows each way, medians:");
Console.WriteLine($"  store (SqliteLogInsert)                    {Median(sqliteApi),6:F1} µs per row ({storeCpu.Sum() / (storeCpu.Count * BatchSize):F2} µs CPU per row over all batches after 20)");
Console.WriteLine($"  prepared Microsoft.Data.Sqlite command      {Median(command),6:F1} µs per row");
SqliteConnection.ClearAllPools();
foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
