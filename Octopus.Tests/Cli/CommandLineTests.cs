using System.Diagnostics;

namespace Octopus.Tests.Cli;

/// <summary>Runs the built `octopus` (JIT build) as a real process.</summary>
public sealed class CommandLineTests
{
    internal static Process Start(string args, string workDir, IDictionary<string, string>? env = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "octopus.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("OCTOPUS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(k);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private static (int Code, string Out, string Err) Run(string args, IDictionary<string, string>? env = null)
    {
        var dir = Directory.CreateTempSubdirectory("octopus-cli-").FullName;
        using var p = Start(args, dir, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), "octopus did not exit");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("start --bogus")]
    [InlineData("")]
    [InlineData("version extra")]
    public void Unknown_command_or_flag_prints_usage_on_stderr_and_exits_2(string args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("Usage: octopus", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Version_prints_version_commit_and_date()
    {
        var (code, stdout, _) = Run("version");
        Assert.Equal(0, code);
        Assert.Matches(@"^octopus \d+\.\d+\.\d+.* \(commit .+, built .+\)", stdout.Trim());
    }

    [Fact]
    public void Help_prints_usage_and_exits_0()
    {
        var (code, stdout, _) = Run("help");
        Assert.Equal(0, code);
        Assert.Contains("start [--config PATH]", stdout);
    }

    [Fact]
    public void Bad_config_value_exits_1_with_one_line_and_no_stack_trace()
    {
        var (code, _, stderr) = Run("start", new Dictionary<string, string> { ["OCTOPUS_SERVER_PORT"] = "70000" });
        Assert.Equal(1, code);
        var lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("OCTOPUS_SERVER_PORT", lines[0]);
        Assert.DoesNotContain(" at ", stderr);
    }
}

public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Start_creates_config_and_database_answers_health_and_exits_0_on_SIGTERM()
    {
        var dir = Directory.CreateTempSubdirectory("octopus-start-").FullName;
        var port = Octopus.Tests.Relay.RelayFailoverTests.ClosedPort();
        using var p = CommandLineTests.Start("start", dir, new Dictionary<string, string> { ["OCTOPUS_SERVER_PORT"] = port.ToString(), ["OCTOPUS_SERVER_HOST"] = "127.0.0.1" });
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var ready = false;
        for (var i = 0; i < 100 && !ready; i++)
        {
            try { ready = (await http.GetAsync("/readyz")).IsSuccessStatusCode; }
            catch (HttpRequestException) { await Task.Delay(100); }
        }
        Assert.True(ready, "gateway did not become ready");
        Assert.Contains("\"ok\"", await http.GetStringAsync("/healthz"));
        Assert.True(File.Exists(Path.Combine(dir, "data/config.json")));
        Assert.True(File.Exists(Path.Combine(dir, "data/data.db")));

        using (var kill = System.Diagnostics.Process.Start("kill", $"-TERM {p.Id}")) kill.WaitForExit();
        Assert.True(p.WaitForExit(20_000), "gateway did not stop on SIGTERM");
        Assert.Equal(0, p.ExitCode);
        Assert.DoesNotContain("Unhandled", await stderr + await stdout);
    }
}
