using System.CommandLine;
using Dso.Processes;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// `docker dso system uninstall [--root DIR] [--purge]`: stops and removes the units. /etc/dso and
/// /var/lib/dso stay unless --purge (they hold your configuration and the registered projects).
/// </summary>
internal sealed class SystemUninstallCommand : DsoCommand
{
    private readonly Option<string> _root = new("--root") { Description = "Uninstall from this directory instead of /.", HelpName = "DIR", DefaultValueFactory = _ => "/" };
    private readonly Option<bool> _purge = new("--purge") { Description = "Also remove /etc/dso and /var/lib/dso." };

    public SystemUninstallCommand(CliContext context)
        : base(context, "uninstall", "Stop the agent and remove its systemd units (configuration and state stay unless --purge).")
    {
        Options.Add(_root);
        Options.Add(_purge);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var layout = new SystemLayout(Path.GetFullPath(parseResult.GetValue(_root)!, Context.WorkingDirectory));
        if (layout.IsLive && Directory.Exists("/run/systemd/system"))
        {
            await ChildProcess.RunAsync("systemctl", ["disable", "--now", SystemLayout.AgentUnit], null, cancellationToken);
        }

        foreach (var unit in new[] { SystemLayout.AgentUnit, SystemLayout.MountUnit })
        {
            var path = Path.Combine(layout.UnitDirectory, unit);
            if (File.Exists(path))
            {
                File.Delete(path);
                Context.Out.WriteLine($"removed:   {path}");
            }
        }

        if (parseResult.GetValue(_purge))
        {
            foreach (var directory in new[] { layout.ConfigDirectory, layout.StateDirectory }.Where(Directory.Exists))
            {
                Directory.Delete(directory, recursive: true);
                Context.Out.WriteLine($"removed:   {directory}");
            }
        }
        else
        {
            Context.Out.WriteLine($"kept:      {layout.ConfigDirectory} and {layout.StateDirectory} (--purge removes them)");
        }

        return ExitCodes.Success;
    }
}
