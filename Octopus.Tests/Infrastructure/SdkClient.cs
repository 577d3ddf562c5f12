using System.Diagnostics;
using System.Text.Json;

namespace Octopus.Tests.Infrastructure;

/// <summary>Runs Octopus.Tests/Sdk/client.mjs: one call of an official npm SDK against a running Octopus.</summary>
public static class SdkClient
{
    private static string SdkDir()
    {
        var dir = Path.Combine(Octopus.Tests.Configuration.ConfigLoaderTests.RepoRoot(), "Octopus.Tests", "Sdk");
        if (!Directory.Exists(Path.Combine(dir, "node_modules")))
            throw new InvalidOperationException($"npm packages missing in {dir}: run `npm ci` there (scripts/test.sh does)");
        return dir;
    }

    public static async Task<JsonElement> RunAsync(string scenario, string baseUrl, string key, string model, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("node", $"client.mjs {scenario}")
        {
            WorkingDirectory = SdkDir(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["OCTOPUS_URL"] = baseUrl;
        psi.Environment["OCTOPUS_KEY"] = key;
        psi.Environment["OCTOPUS_MODEL"] = model;
        psi.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"SDK scenario {scenario} hung; stderr: {await stderr}");
        }
        var output = await stdout;
        Assert.True(p.ExitCode == 0, $"SDK scenario {scenario} failed (exit {p.ExitCode}): {await stderr}\n{output}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
