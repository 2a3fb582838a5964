using Dso.Configuration;

namespace Dso.Agent.Hosting;

/// <summary>
/// The command line of the `dso-agent` executable (the agent as its own NativeAOT program, which
/// `docker dso agent` runs when it sits beside docker-dso): `dso-agent [--config FILE]
/// [--log-level LEVEL]`, plus `--help` and `--version`. Wrong arguments get one line and exit 2;
/// a configuration or start-up problem one line and exit 1, as `docker dso agent` does.
/// </summary>
internal static class AgentMain
{
    public const string ExecutableName = Dso.Ipc.AgentExecutable.Name;

    public static readonly IReadOnlyList<string> LogLevels = ["trace", "debug", "info", "warning", "error"];

    public const string Usage = "usage: dso-agent [--config FILE] [--log-level trace|debug|info|warning|error]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var parsed = Parse(args);
        if (parsed.Problem is { } problem)
        {
            await error.WriteLineAsync($"dso-agent: {problem}");
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (parsed.Help)
        {
            await output.WriteLineAsync($"""
                {Usage}

                The DSO agent daemon: serves `docker dso status`, `watch` and `rotate` on its Unix socket,
                /health, /ready and /metrics on its REST address, restores managed containers' secrets
                after a reboot and rotates containers when a secret changes. Runs until SIGTERM.

                  --config FILE      dso.yaml (default: ./dso.yaml, ~/.config/dso/dso.yaml, /etc/dso/dso.yaml)
                  --log-level LEVEL  overrides logging.level
                  --version          print the version
                """);
            return 0;
        }

        if (parsed.Version)
        {
            await output.WriteLineAsync($"dso-agent {StatusReporter.Version}");
            return 0;
        }

        try
        {
            var loaded = ConfigLoader.Load(parsed.ConfigPath, Environment.GetEnvironmentVariable, Environment.CurrentDirectory);
            return await AgentHost.RunAsync(loaded, Environment.GetEnvironmentVariable, parsed.LogLevel, message => error.WriteLine($"dso: {message}"), cancellationToken);
        }
        catch (DsoException e)
        {
            await error.WriteLineAsync($"dso: {e.Message}");
            return 1;
        }
    }

    /// <summary>What the command line asks for, or a problem naming the argument.</summary>
    internal static ParsedArguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new ParsedArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = args[i].Split('=', 2) is [var n, var v] && n.StartsWith("--", StringComparison.Ordinal) ? (n, v) : (args[i], null);
            switch (name)
            {
                case "-h" or "--help" or "-?" when inline is null:
                    parsed = parsed with { Help = true };
                    break;
                case "--version" when inline is null:
                    parsed = parsed with { Version = true };
                    break;
                case "--config" or "--log-level":
                    var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                    if (string.IsNullOrEmpty(value))
                    {
                        return parsed with { Problem = $"{name} needs a value" };
                    }

                    if (name == "--config")
                    {
                        parsed = parsed with { ConfigPath = value };
                    }
                    else if (LogLevels.Contains(value, StringComparer.Ordinal))
                    {
                        parsed = parsed with { LogLevel = value };
                    }
                    else
                    {
                        return parsed with { Problem = $"'{DsoException.OneLine(value)}' is not a log level (trace, debug, info, warning or error)" };
                    }

                    break;
                default:
                    return parsed with { Problem = $"unknown argument '{DsoException.OneLine(args[i])}'" };
            }
        }

        return parsed;
    }

    internal sealed record ParsedArguments(string? ConfigPath = null, string? LogLevel = null, bool Help = false, bool Version = false, string? Problem = null);
}
