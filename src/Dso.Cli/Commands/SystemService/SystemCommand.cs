using System.CommandLine;

namespace Dso.Cli.Commands.SystemService;

/// <summary>`docker dso system install|uninstall`: the agent as a systemd service.</summary>
internal static class SystemCommand
{
    public static Command Create(CliContext context) => new("system", "Install or remove the agent as a systemd service (units, group, directories).")
    {
        new SystemInstallCommand(context),
        new SystemUninstallCommand(context),
    };
}
