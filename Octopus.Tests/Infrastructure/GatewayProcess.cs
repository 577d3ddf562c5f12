using System.Diagnostics;
using Octopus.Configuration;

namespace Octopus.Tests.Infrastructure;

/// <summary>The gateway as a real OS process (`dotnet octopus.dll start`), for signals and restarts.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly Task<string> _stdout;
    public int Port { get; }
    public int Pid => _process.Id;
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    private GatewayProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        _stderr = process.StandardError.ReadToEndAsync();
        _stdout = process.StandardOutput.ReadToEndAsync();
    }

    /// <summary>Starts on the given database (from a TestDatabase config) in <paramref name="workDir"/>, waits for /readyz.</summary>
    public static async Task<GatewayProcess> StartAsync(OctopusConfig db, string workDir, IDictionary<string, string>? extraEnv = null)
    {
        var port = Relay.RelayFailoverTests.ClosedPort();
        var env = new Dictionary<string, string>
        {
            ["OCTOPUS_SERVER_HOST"] = "127.0.0.1",
            ["OCTOPUS_SERVER_PORT"] = port.ToString(),
            ["OCTOPUS_DATABASE_TYPE"] = db.DatabaseType,
            ["OCTOPUS_DATABASE_PATH"] = db.DatabasePath,
            ["OCTOPUS_DATABASE_URL"] = db.DatabaseUrl,
            ["OCTOPUS_LOG_LEVEL"] = "warn",
        };
        if (extraEnv is not null) foreach (var (k, v) in extraEnv) env[k] = v;
        var p = new GatewayProcess(Cli.CommandLineTests.Start("start", workDir, env), port);
        using var http = new HttpClient { BaseAddress = new Uri(p.BaseUrl), Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 200; i++)
        {
            if (p._process.HasExited) throw new InvalidOperationException("gateway exited: " + await p._stderr);
            try
            {
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) return p;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        p.Kill();
        throw new TimeoutException("gateway did not become ready: " + await p._stderr);
    }

    /// <summary>Sends SIGTERM and waits; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan? timeout = null)
    {
        using (var kill = Process.Start("kill", $"-TERM {_process.Id}")!) await kill.WaitForExitAsync();
        var wait = timeout ?? TimeSpan.FromSeconds(30);
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed first: its output streams end only when it has exited.
            Kill();
            throw new TimeoutException($"gateway did not exit within {wait.TotalSeconds:0} s of SIGTERM; its output:\n{await OutputAsync()}");
        }
        return _process.ExitCode;
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async Task<string> OutputAsync() => await _stderr + await _stdout;

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
