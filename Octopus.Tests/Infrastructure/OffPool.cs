namespace Octopus.Tests.Infrastructure;

/// <summary>Tasks that complete on a new, non-pool thread, as a socket completion does under server.inline_completions.</summary>
internal static class OffPool
{
    public static Task<T> Complete<T>(Func<T> result)
    {
        var done = new TaskCompletionSource<T>();
        new Thread(() =>
        {
            Thread.Sleep(20); // after the caller awaits, so its continuation runs on this thread
            done.SetResult(result());
        }) { IsBackground = true }.Start();
        return done.Task;
    }
}
