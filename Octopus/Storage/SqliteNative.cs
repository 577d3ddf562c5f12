using System.Reflection;
using System.Runtime.InteropServices;
using SQLitePCL;

namespace Octopus.Storage;

/// <summary>
/// Binds Microsoft.Data.Sqlite to SQLite once per process. The provider P/Invokes `e_sqlite3`: the AOT binary
/// links it statically (DirectPInvoke), so the resolver below never runs there; under the JIT (tests, dotnet run)
/// it maps the name to the system library from Debian's libsqlite3-0.
/// </summary>
internal static class SqliteNative
{
    private static readonly object Gate = new();
    private static bool _done;

    public static void EnsureInitialized()
    {
        if (Volatile.Read(ref _done)) return;
        lock (Gate)
        {
            if (_done) return;
            // The provider's P/Invokes, and SqliteLogInsert's own binds.
            foreach (var assembly in (Assembly[])[typeof(SQLite3Provider_e_sqlite3).Assembly, typeof(SqliteNative).Assembly])
            {
                try
                {
                    NativeLibrary.SetDllImportResolver(assembly, Resolve);
                }
                catch (InvalidOperationException)
                {
                    // Someone already installed a resolver for that assembly; keep theirs.
                }
            }
            raw.SetProvider(new SQLite3Provider_e_sqlite3());
            Configure();
            Volatile.Write(ref _done, true);
        }
    }

    private const int ConfigMultiThread = 2, ConfigMemStatus = 9; // SQLITE_CONFIG_MULTITHREAD, SQLITE_CONFIG_MEMSTATUS

    /// <summary>
    /// Before the first connection opens. Debian builds SQLite serialized (a mutex taken on every call into a
    /// connection) and with malloc statistics (a global mutex on every allocation). A connection here is never used
    /// by two threads at once (the ADO.NET contract the pool keeps), so multi-thread mode is enough; nothing reads the
    /// statistics. Together they take 20-30 % off the CPU of a request-log insert (scripts/bench-logs: 6.6 and 5.9 µs a
    /// row against 9.5 and 7.6 µs, alternating runs).
    /// Commands and statements are always disposed, so the finalizer thread never finalizes a statement of a pooled
    /// connection another thread is using. Fails harmlessly (SQLITE_MISUSE) when something in the process already
    /// initialized SQLite; DatabaseTests checks it took effect.
    /// </summary>
    private static void Configure()
    {
        Tuned = raw.sqlite3_config(ConfigMultiThread) == raw.SQLITE_OK & raw.sqlite3_config(ConfigMemStatus, 0) == raw.SQLITE_OK;
    }

    /// <summary>False when SQLite was initialized before <see cref="Configure"/> could run (logged at start-up).</summary>
    public static bool Tuned { get; private set; }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != "e_sqlite3") return IntPtr.Zero;
        foreach (var candidate in (string[])["e_sqlite3", "libsqlite3.so.0", "libsqlite3.so", "libsqlite3.0.dylib", "sqlite3"])
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        }
        return IntPtr.Zero;
    }
}
