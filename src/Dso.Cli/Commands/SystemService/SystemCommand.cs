using System.CommandLine;

namespace Dso.Cli.Commands.SystemService;

/// <summary>`docker dso system install|uninstall|enable|disable|restart|status|logs`: the agent as a systemd service.</summary>
internal static class SystemCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("system", "The agent as a systemd service: install or remove its units, group and directories; enable, disable, restart it; its status and log.")
        {
            new SystemInstallCommand(context),
            new SystemUninstallCommand(context),
        };
        foreach (var service in SystemServiceCommand.Create(context))
        {
            command.Subcommands.Add(service);
        }

        command.Subcommands.Add(new SystemLogsCommand(context));
        return command;
    }
}
