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
