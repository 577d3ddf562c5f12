using Octopus.Cli;

return await CommandLine.RunAsync(args);
