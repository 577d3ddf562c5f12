using System.Reflection;
using Octopus.Configuration;
using Octopus.Hosting;

namespace Octopus.Cli;

/// <summary>`octopus start [--config PATH]`, `octopus version`, `octopus help`.</summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: octopus <command> [options]

        Commands:
          start [--config PATH]   start the gateway (default config: data/config.json, created on first start)
          version                 print version, commit and build date
          help                    show this help

        Every config key can be overridden by an environment variable: OCTOPUS_ + the key path joined by
        underscores, e.g. OCTOPUS_SERVER_PORT=9090, OCTOPUS_DATABASE_TYPE=postgres, OCTOPUS_LOG_LEVEL=debug.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0) return UsageError("no command given");
        switch (args[0])
        {
            case "help" or "--help" or "-h":
                if (args.Length > 1) return UsageError($"unexpected argument '{args[1]}'");
                Console.Out.WriteLine(Usage);
                return 0;
            case "version" or "--version" or "-v":
                if (args.Length > 1) return UsageError($"unexpected argument '{args[1]}'");
                Console.Out.WriteLine(VersionText());
                return 0;
            case "start":
                return await StartAsync(args.AsSpan(1).ToArray());
            default:
                return UsageError($"unknown command '{args[0]}'");
        }
    }

    private static async Task<int> StartAsync(string[] args)
    {
        string? configPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c":
                    if (i + 1 >= args.Length) return UsageError("--config needs a PATH");
                    configPath = args[++i];
                    break;
                default:
                    if (args[i].StartsWith("--config=", StringComparison.Ordinal)) { configPath = args[i]["--config=".Length..]; break; }
                    return UsageError($"unknown option '{args[i]}'");
            }
        }

        OctopusConfig config;
        try
        {
            config = ConfigLoader.Load(configPath);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine("octopus: " + e.Message);
            return 1;
        }
        return await OctopusServer.RunAsync(config);
    }

    private static int UsageError(string problem)
    {
        Console.Error.WriteLine($"octopus: {problem}");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    public static string VersionText()
    {
        var info = BuildInfo.Current;
        return $"octopus {info.Version} (commit {info.Commit}, built {info.Date}; databases: {Storage.Database.Flavour})";
    }
}

internal sealed record BuildInfo(string Version, string Commit, string Date)
{
    /// <summary>Set at publish time: -p:Version=… -p:SourceRevisionId=… -p:BuildDate=… (scripts/publish.sh).</summary>
    public static readonly BuildInfo Current = Read();

    private static BuildInfo Read()
    {
        var asm = typeof(BuildInfo).Assembly;
        var informational = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        // InformationalVersion is "1.2.3+commit" when SourceRevisionId is set.
        var plus = informational.IndexOf('+');
        var version = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        var date = asm.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "BuildDate")?.Value ?? "unknown";
        return new BuildInfo(version, commit, date);
    }
}
