using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Octopus.Domain;
using SQLitePCL;

namespace Octopus.Storage;

/// <summary>
/// The request-log batch insert on SQLite, through the SQLite API under Microsoft.Data.Sqlite: one statement prepared
/// per batch, parameters bound by position from UTF-8 bytes, stepped and reset per row. Microsoft.Data.Sqlite's
/// command re-resolves every parameter by name and checks all are bound on each execution, which made this, the
/// relay's busiest write, cost about three times as much CPU per row (scripts/bench-logs).
/// </summary>
internal static class SqliteLogInsert
{
    /// <summary>Runs inside the caller's open transaction on <paramref name="conn"/>.</summary>
    public static void Run(SqliteConnection conn, string sql, IReadOnlyList<RequestLog> logs)
    {
        if (logs.Count == 0) return;
        var db = conn.Handle!;
        Check(raw.sqlite3_prepare_v2(db, sql, out var stmt), db);
        using var _ = stmt;
        var json = new ArrayBufferWriter<byte>(512);
        using var jsonWriter = new Utf8JsonWriter(json);
        foreach (var l in logs)
        {
            raw.sqlite3_bind_int64(stmt, 1, l.Id);
            raw.sqlite3_bind_int64(stmt, 2, l.Time);
            Int(stmt, 3, l.ApiKeyId);
            Text(stmt, 4, l.ApiKeyName);
            Text(stmt, 5, l.ClientIp);
            Text(stmt, 6, l.RequestedModel);
            Text(stmt, 7, l.GroupName);
            Int(stmt, 8, l.ChannelId);
            Text(stmt, 9, l.ChannelName);
            Text(stmt, 10, l.UpstreamModel);
            raw.sqlite3_bind_int64(stmt, 11, l.Status);
            Text(stmt, 12, l.Error);
            raw.sqlite3_bind_int64(stmt, 13, l.LatencyMs);
            Int(stmt, 14, l.TtftMs);
            raw.sqlite3_bind_int64(stmt, 15, l.InputTokens);
            raw.sqlite3_bind_int64(stmt, 16, l.OutputTokens);
            raw.sqlite3_bind_int64(stmt, 17, l.CacheReadTokens);
            raw.sqlite3_bind_int64(stmt, 18, l.CacheWriteTokens);
            raw.sqlite3_bind_int64(stmt, 19, l.ReasoningTokens);
            raw.sqlite3_bind_double(stmt, 20, l.Cost);
            raw.sqlite3_bind_int(stmt, 21, l.Stream ? 1 : 0);
            Text(stmt, 22, l.ProtocolIn ?? "");
            Text(stmt, 23, l.ProtocolOut);
            json.ResetWrittenCount();
            jsonWriter.Reset();
            JsonColumn.Write(jsonWriter, l.Attempts);
            raw.sqlite3_bind_text(stmt, 24, json.WrittenSpan);
            var rc = raw.sqlite3_step(stmt);
            raw.sqlite3_reset(stmt);
            if (rc != raw.SQLITE_DONE) Check(rc, db);
        }
    }

    private static void Int(sqlite3_stmt stmt, int index, long? value)
    {
        if (value is { } v) raw.sqlite3_bind_int64(stmt, index, v);
        else raw.sqlite3_bind_null(stmt, index);
    }

    private static void Text(sqlite3_stmt stmt, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(stmt, index);
            return;
        }
        if (value.Length <= 256)
        {
            // SQLite copies the bytes (SQLITE_TRANSIENT), so a stack buffer is enough.
            Span<byte> utf8 = stackalloc byte[value.Length * 3];
            raw.sqlite3_bind_text(stmt, index, utf8[..Encoding.UTF8.GetBytes(value, utf8)]);
        }
        else raw.sqlite3_bind_text(stmt, index, value);
    }

    private static void Check(int rc, sqlite3 db)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW)) SqliteException.ThrowExceptionForRC(rc, db);
    }
}
