using System.CommandLine;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// `docker dso system enable|disable|restart|status`: the agent's systemd units, through systemctl.
/// enable starts the agent at every boot and now; disable stops it starting at boot (and, with
/// --now, stops it); restart restarts it; status shows systemd's view of both units, with
/// systemctl's exit code (0 running, 3 stopped).
/// </summary>
internal sealed class SystemServiceCommand : DsoCommand
{
    private readonly Option<bool> _now = new("--now") { Description = "Also stop the agent now (disable only)." };
    private readonly string _verb;

    private SystemServiceCommand(CliContext context, string verb, string description)
        : base(context, verb, description)
    {
        _verb = verb;
        if (verb == "disable")
        {
            Options.Add(_now);
        }
    }

    public static IEnumerable<Command> Create(CliContext context) =>
    [
        new SystemServiceCommand(context, "enable", "Start the agent at every boot, and now (systemctl enable --now)."),
        new SystemServiceCommand(context, "disable", "Stop starting the agent at boot (--now also stops it)."),
        new SystemServiceCommand(context, "restart", "Restart the agent (it re-reads /etc/dso/dso.yaml and adopts running containers)."),
        new SystemServiceCommand(context, "reload", "Make the agent re-read /etc/dso/dso.yaml now (systemctl reload; it also notices edits by itself); exit 1 if it refused the file."),
        new SystemServiceCommand(context, "status", "Show systemd's status of the agent and its RAM mount; exit 0 when running, 3 when stopped."),
    ];

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        Systemd.Require(Context, _verb);
        if (!File.Exists(Path.Combine("/etc/systemd/system", SystemLayout.AgentUnit)) && !File.Exists(Path.Combine("/lib/systemd/system", SystemLayout.AgentUnit)))
        {
            throw new DsoException($"{SystemLayout.AgentUnit} is not installed: run 'sudo docker dso system install' (or install the dso package) first");
        }

        switch (_verb)
        {
            case "status":
                return await Systemd.ShowAsync(Context, "systemctl", ["status", "--no-pager", "--lines=10", SystemLayout.AgentUnit, SystemLayout.MountUnit], cancellationToken);
            case "enable":
                await Systemd.RunAsync(["enable", "--now", SystemLayout.MountUnit, SystemLayout.AgentUnit], cancellationToken);
                Context.Out.WriteLine($"{SystemLayout.AgentUnit} starts at boot and is running");
                break;
            case "disable":
                var now = parseResult.GetValue(_now);
                await Systemd.RunAsync(now ? ["disable", "--now", SystemLayout.AgentUnit] : ["disable", SystemLayout.AgentUnit], cancellationToken);
                Context.Out.WriteLine(now
                    ? $"{SystemLayout.AgentUnit} stopped and no longer starts at boot (running containers keep their secrets until they restart)"
                    : $"{SystemLayout.AgentUnit} no longer starts at boot; it keeps running until stopped (--now stops it)");
                break;
            case "reload":
                return await ReloadAsync(cancellationToken);
            default:
                await Systemd.RunAsync(["restart", SystemLayout.AgentUnit], cancellationToken);
                Context.Out.WriteLine($"{SystemLayout.AgentUnit} restarted");
                break;
        }

        return ExitCodes.Success;
    }

    /// <summary>systemctl reload (SIGHUP to the agent), then the agent's own word on whether it applied the file.</summary>
    private async Task<int> ReloadAsync(CancellationToken cancellationToken)
    {
        var socket = Agent.AgentConnection.SocketPath(Context);
        using var agent = await Dso.Cli.Agent.AgentClient.TryConnectAsync(socket, cancellationToken);
        var before = agent is null ? null : (await agent.GetAsync("/v1/status", Dso.Ipc.IpcJson.Wire.StatusReport, cancellationToken)).Agent;
        await Systemd.RunAsync(["reload", SystemLayout.AgentUnit], cancellationToken);
        if (agent is null || before is null)
        {
            Context.Out.WriteLine($"{SystemLayout.AgentUnit} asked to reload (the agent's socket {socket} does not answer, so its result is in 'docker dso system logs')");
            return ExitCodes.Success;
        }

        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            var now = (await agent.GetAsync("/v1/status", Dso.Ipc.IpcJson.Wire.StatusReport, cancellationToken)).Agent;
            if (now.ConfigReloads > before.ConfigReloads)
            {
                if (now.ConfigError is { } error)
                {
                    throw new DsoException($"the agent refused {now.Config ?? "dso.yaml"}: {error}; it keeps the last good configuration");
                }

                Context.Out.WriteLine($"{SystemLayout.AgentUnit} reloaded {now.Config ?? "its defaults"}");
                return ExitCodes.Success;
            }
        }

        throw new DsoException($"{SystemLayout.AgentUnit} did not report a reload within 15 s; see 'docker dso system logs -n 20'");
    }
}
