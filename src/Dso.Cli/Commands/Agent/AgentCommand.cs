using System.CommandLine;
using Dso.Cli.Agent;
using Dso.Configuration;
using Dso.Ipc;

namespace Dso.Cli.Commands.Agent;

/// <summary>
/// `docker dso agent`: runs the daemon in the foreground (systemd runs it this way too). The
/// configuration is checked here first, so a mistake gets the CLI's one line; then this process
/// becomes dso-agent, the daemon installed beside docker-dso (see <see cref="NativeAgent"/>).
/// </summary>
internal sealed class AgentCommand : DsoCommand
{
    private readonly Option<string?> _logLevel = new("--log-level") { Description = "trace, debug, info, warning or error (overrides logging.level).", HelpName = "LEVEL" };

    public AgentCommand(CliContext context)
        : base(context, "agent", "Run the agent daemon in the foreground: IPC socket, REST API, reconciliation, Docker watcher.")
    {
        _logLevel.AcceptOnlyFromAmong("trace", "debug", "info", "warning", "error");
        Options.Add(_logLevel);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
        var agent = NativeAgent.Locate();
        Context.Out.Flush();
        Context.Error.Flush();
        NativeAgent.Exec(agent, AgentExecutable.Arguments(loaded.Path, parseResult.GetValue(_logLevel)));
        return Task.FromResult(ExitCodes.Failure);
    }
}
