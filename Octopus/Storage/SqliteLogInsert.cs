using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Octopus.Domain;
using SQLitePCL;

namespace Octopus.Storage;

/// <summary>
/// The request-log batch insert on SQLite, through the SQLite C API under Microsoft.Data.Sqlite. Microsoft.Data.Sqlite's
/// command re-resolves every parameter by name and checks all are bound on each execution, which made this, the
/// relay's busiest write, cost about three times as much CPU per row. Cheaper again (scripts/bench-logs.sh):
/// - <see cref="RowsPerStatement"/> rows go in one INSERT, so a statement's fixed cost (start, halt, reset) is
///   shared by eight rows;
/// - the binds call SQLite directly without a GC transition (they only copy a value into the statement), where
///   SQLitePCL took a SafeHandle reference and a transition for each of a row's 24;
/// - text is encoded into pinned buffers that SQLite reads in place (SQLITE_STATIC) instead of copying every value
///   into a block of its own.
/// </summary>
internal static class SqliteLogInsert
{
    private const int RowsPerStatement = 8;
    private const int Columns = 24;
    private static readonly string Row = "(" + string.Join(", ", Enumerable.Repeat("?", Columns)) + ")";
    private static readonly string InsertOne = $"INSERT INTO request_logs ({RequestLogStore.Columns}) VALUES {Row}";
    private static readonly string InsertMany = $"INSERT INTO request_logs ({RequestLogStore.Columns}) VALUES {string.Join(", ", Enumerable.Repeat(Row, RowsPerStatement))}";

    /// <summary>Runs inside the caller's open transaction on <paramref name="conn"/>.</summary>
    public static void Run(SqliteConnection conn, IReadOnlyList<RequestLog> logs)
    {
        if (logs.Count == 0) return;
        var db = conn.Handle!;
        using var many = logs.Count >= RowsPerStatement ? Prepare(db, InsertMany) : null;
        using var one = Prepare(db, InsertOne);
        var text = new RowText(4096);
        var attempts = new ArrayBufferWriter<byte>(512);
        using var jsonWriter = new Utf8JsonWriter(attempts);
        var i = 0;
        for (; i + RowsPerStatement <= logs.Count; i += RowsPerStatement)
        {
            var stmt = many!.DangerousGetHandle();
            text.Start();
            for (var r = 0; r < RowsPerStatement; r++) BindRow(stmt, Columns * r, logs[i + r], text, attempts, jsonWriter);
            Step(stmt, db);
        }
        for (; i < logs.Count; i++)
        {
            var stmt = one.DangerousGetHandle();
            text.Start();
            BindRow(stmt, 0, logs[i], text, attempts, jsonWriter);
            Step(stmt, db);
        }
        // SQLite read the text buffers in each step above; nothing may collect them before the last one.
        GC.KeepAlive(text);
    }

    private static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        Check(raw.sqlite3_prepare_v2(db, sql, out var stmt), db);
        return stmt;
    }

    private static void Step(IntPtr stmt, sqlite3 db)
    {
        var rc = Native.sqlite3_step(stmt);
        Native.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE) Check(rc, db);
    }

    /// <summary>Binds <paramref name="l"/> to parameters <paramref name="o"/> + 1 to <paramref name="o"/> + 24.</summary>
    private static void BindRow(IntPtr stmt, int o, RequestLog l, RowText row, ArrayBufferWriter<byte> attempts, Utf8JsonWriter jsonWriter)
    {
        AttemptsColumn.Write(l, attempts, jsonWriter);
        Native.sqlite3_bind_int64(stmt, o + 1, l.Id);
        Native.sqlite3_bind_int64(stmt, o + 2, l.Time);
        Int(stmt, o + 3, l.ApiKeyId);
        row.Bind(stmt, o + 4, l.ApiKeyName);
        row.Bind(stmt, o + 5, l.ClientIp);
        row.Bind(stmt, o + 6, l.RequestedModel);
        row.Bind(stmt, o + 7, l.GroupName);
        Int(stmt, o + 8, l.ChannelId);
        row.Bind(stmt, o + 9, l.ChannelName);
        row.Bind(stmt, o + 10, l.UpstreamModel);
        Native.sqlite3_bind_int64(stmt, o + 11, l.Status);
        row.Bind(stmt, o + 12, l.Error);
        Native.sqlite3_bind_int64(stmt, o + 13, l.LatencyMs);
        Int(stmt, o + 14, l.TtftMs);
        Native.sqlite3_bind_int64(stmt, o + 15, l.InputTokens);
        Native.sqlite3_bind_int64(stmt, o + 16, l.OutputTokens);
        Native.sqlite3_bind_int64(stmt, o + 17, l.CacheReadTokens);
        Native.sqlite3_bind_int64(stmt, o + 18, l.CacheWriteTokens);
        Native.sqlite3_bind_int64(stmt, o + 19, l.ReasoningTokens);
        Native.sqlite3_bind_double(stmt, o + 20, l.Cost);
        Native.sqlite3_bind_int64(stmt, o + 21, l.Stream ? 1 : 0);
        row.Bind(stmt, o + 22, l.ProtocolIn ?? "");
        row.Bind(stmt, o + 23, l.ProtocolOut);
        row.Bind(stmt, o + 24, attempts.WrittenSpan);
    }

    private static void Int(IntPtr stmt, int index, long? value)
    {
        if (value is { } v) Native.sqlite3_bind_int64(stmt, index, v);
        else Native.sqlite3_bind_null(stmt, index);
    }

    /// <summary>
    /// The text values of the rows bound to a statement, back to back in pinned buffers, valid until the next
    /// <see cref="Start"/>. A full buffer is kept (the statement points into it) and a bigger one taken.
    /// </summary>
    private sealed class RowText(int capacity)
    {
        private byte[] _buffer = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);
        private readonly List<byte[]> _full = [];
        private int _used;

        /// <summary>Begins a statement's rows: every value of the previous ones is rebound before the next step.</summary>
        public void Start()
        {
            _full.Clear();
            _used = 0;
        }

        public void Bind(IntPtr stmt, int index, string? value)
        {
            if (value is null)
            {
                Native.sqlite3_bind_null(stmt, index);
                return;
            }
            Reserve(3 * value.Length);
            var n = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
            Native.sqlite3_bind_text(stmt, index, Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, _used), n, IntPtr.Zero);
            _used += n;
        }

        public void Bind(IntPtr stmt, int index, ReadOnlySpan<byte> utf8)
        {
            Reserve(utf8.Length);
            utf8.CopyTo(_buffer.AsSpan(_used));
            Native.sqlite3_bind_text(stmt, index, Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, _used), utf8.Length, IntPtr.Zero);
            _used += utf8.Length;
        }

        private void Reserve(int bytes)
        {
            if (_used + bytes < _buffer.Length) return;
            _full.Add(_buffer);
            _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(bytes + 1, _buffer.Length * 2), pinned: true);
            _used = 0;
        }
    }

    private static void Check(int rc, sqlite3 db)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW)) SqliteException.ThrowExceptionForRC(rc, db);
    }

    /// <summary>
    /// The same library SQLitePCL binds to (`e_sqlite3`: linked into the AOT binary, resolved by
    /// <see cref="SqliteNative"/> under the JIT). The binds skip the GC transition: they neither block nor call back.
    /// </summary>
    private static class Native
    {
        private const string Lib = "e_sqlite3";
        [DllImport(Lib), SuppressGCTransition] public static extern int sqlite3_bind_int64(IntPtr stmt, int index, long value);
        [DllImport(Lib), SuppressGCTransition] public static extern int sqlite3_bind_double(IntPtr stmt, int index, double value);
        [DllImport(Lib), SuppressGCTransition] public static extern int sqlite3_bind_null(IntPtr stmt, int index);
        /// <summary><paramref name="destructor"/> zero is SQLITE_STATIC: SQLite reads the bytes in place until rebound.</summary>
        [DllImport(Lib), SuppressGCTransition] public static extern int sqlite3_bind_text(IntPtr stmt, int index, IntPtr text, int bytes, IntPtr destructor);
        [DllImport(Lib)] public static extern int sqlite3_step(IntPtr stmt);
        [DllImport(Lib)] public static extern int sqlite3_reset(IntPtr stmt);
    }
}
