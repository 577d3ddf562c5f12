namespace Octopus.Hosting;

/// <summary>
/// With server.inline_completions a completed socket operation continues on the runtime's socket event thread, and
/// while code runs there no other socket that thread serves is read or written. Code that is about to block or run
/// long after network I/O leaves first (docs/architecture.md, Threads).
/// </summary>
internal static class EventThreads
{
    /// <summary>Continues on a pool thread when called anywhere else (a socket event thread); else at once.</summary>
    public static async ValueTask LeaveAsync()
    {
        if (!Thread.CurrentThread.IsThreadPoolThread) await Task.Yield();
    }
}
