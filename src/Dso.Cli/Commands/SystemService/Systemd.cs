using Dso.Processes;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// systemctl and journalctl for the agent's units. Every command here needs systemd as the host's
/// init; where it is not, the command says so in one line (and how to run the agent without it)
/// instead of letting systemctl print its own confusion.
/// </summary>
internal static class Systemd
{
    public static bool IsRunning(CliContext context) => Directory.Exists(context.SystemdMarker);

    public static void Require(CliContext context, string command)
    {
        if (!IsRunning(context))
        {
            throw new DsoException(
                $"'docker dso system {command}' needs systemd, and it is not this host's init (no {context.SystemdMarker}): " +
                "run the agent in the foreground with 'docker dso agent --config /etc/dso/dso.yaml' or under your own supervisor");
        }
    }

    /// <summary>Runs systemctl or journalctl, its output shown as it comes; returns its exit code.</summary>
    public static async Task<int> ShowAsync(CliContext context, string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        try
        {
            var result = await ChildProcess.RunAsync(program, arguments, new ChildProcessOptions
            {
                StreamTo = (context.Out, context.Error),
                Timeout = Timeout.InfiniteTimeSpan,
            }, cancellationToken);
            return result.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
    }

    /// <summary>Runs systemctl and fails with its own words when it fails.</summary>
    public static async Task RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await ChildProcess.RunAsync("systemctl", arguments, null, cancellationToken);
        if (!result.Succeeded)
        {
            var why = result.StandardError.Trim().ReplaceLineEndings(" ");
            throw new DsoException($"systemctl {string.Join(' ', arguments)} failed: {(why.Length > 0 ? why : $"exit {result.ExitCode}")}; see 'docker dso system logs -n 50'");
        }
    }
}
