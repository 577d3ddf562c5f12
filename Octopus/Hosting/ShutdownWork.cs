namespace Octopus.Hosting;

/// <summary>
/// Work that must run once the server has stopped and in-flight requests have finished — e.g. the final stats
/// flush. Runs in registration order; a failing step is logged and the next still runs.
/// </summary>
internal sealed class ShutdownWork
{
    private readonly List<(string Name, Func<CancellationToken, Task> Work)> _steps = [];
    private int _ran;

    public void Register(string name, Func<CancellationToken, Task> work)
    {
        lock (_steps) _steps.Add((name, work));
    }

    public async Task RunAsync(ILogger log, TimeSpan? timeout = null)
    {
        if (Interlocked.Exchange(ref _ran, 1) == 1) return;
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        (string Name, Func<CancellationToken, Task> Work)[] steps;
        lock (_steps) steps = [.. _steps];
        foreach (var (name, work) in steps)
        {
            try
            {
                await work(cts.Token);
            }
            catch (Exception e)
            {
                log.LogError("Shutdown step {Step} failed: {Error}", name, e.Message);
            }
        }
    }
}
