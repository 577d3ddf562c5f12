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
        // A free port can be taken between ClosedPort() and the gateway's bind (by a parallel test's socket); then this
        // gateway exits with "cannot listen" while another server may answer /readyz on that port. Start again elsewhere.
        for (var attempt = 1; ; attempt++)
        {
            var p = await StartOnceAsync(db, workDir, extraEnv);
            if (!p._process.HasExited) return p;
            var output = await p.OutputAsync();
            if (attempt == 3 || !output.Contains("cannot listen", StringComparison.Ordinal))
                throw new InvalidOperationException($"gateway exited ({p._process.ExitCode}) just after start: {output}");
        }
    }

    private static async Task<GatewayProcess> StartOnceAsync(OctopusConfig db, string workDir, IDictionary<string, string>? extraEnv)
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
            if (p._process.HasExited) return p; // the caller reads why
            try
            {
                // Ready, and the listener on the port is this process (not whoever else took the port).
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode && ListensOn(p._process.Id, port)) return p;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        p.Kill();
        throw new TimeoutException("gateway did not become ready: " + await p._stderr);
    }

    /// <summary>Whether <paramref name="pid"/> holds the IPv4 listening socket on 127.0.0.1:<paramref name="port"/> (Linux /proc).</summary>
    private static bool ListensOn(int pid, int port)
    {
        var local = $"0100007F:{port:X4}";
        var inode = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(f => f.Length > 9 && f[1] == local && f[3] == "0A")?[9];
        if (inode is null) return false;
        var target = $"socket:[{inode}]";
        try
        {
            return Directory.GetFiles($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the process is gone
        }
    }

    /// <summary>Sends SIGTERM and asserts a clean exit (code 0), showing the gateway's output when it is not.</summary>
    public async Task TerminateCleanlyAsync()
    {
        var code = await TerminateAsync();
        Assert.True(code == 0, $"gateway exited with {code}; its output:\n{await OutputAsync()}");
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
