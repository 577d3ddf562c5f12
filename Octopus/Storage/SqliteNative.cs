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
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(SQLite3Provider_e_sqlite3).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Someone already installed a resolver for the provider assembly; keep theirs.
            }
            raw.SetProvider(new SQLite3Provider_e_sqlite3());
            Volatile.Write(ref _done, true);
        }
    }

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
