using System.CommandLine;
using Dso.Native;
using Dso.Processes;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// `docker dso system install [--root DIR]`: the group `dso`, /etc/dso (with a starting dso.yaml),
/// /var/lib/dso, and the units dso-agent.service and run-dso-secrets.mount; then, where systemd
/// runs, enables and starts them. Running it again updates what changed and says so. The unit
/// makes root run the executable at every boot, so it never names one a user could replace: when
/// this docker-dso, or anything beside it that the agent runs or loads (dso-agent, dso-init,
/// libsodium.so), or any directory above them, is not root's alone, they are first copied into
/// /usr/local/lib/dso and the unit names the copy.
/// </summary>
internal sealed class SystemInstallCommand : DsoCommand
{
    private readonly Option<string> _root = new("--root") { Description = "Install under this directory instead of / (for packaging); no group, no systemctl.", HelpName = "DIR", DefaultValueFactory = _ => "/" };

    public SystemInstallCommand(CliContext context)
        : base(context, "install", "Install the agent's systemd units, the dso group and directories, and start the agent.")
    {
        Options.Add(_root);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken) =>
        new SystemInstaller(Context).InstallAsync(new SystemLayout(Path.GetFullPath(parseResult.GetValue(_root)!, Context.WorkingDirectory)), cancellationToken);
}

/// <summary>The work of `system install`, shared with `bootstrap agent` and `setup --mode agent`.</summary>
internal sealed class SystemInstaller(CliContext context)
{
    private CliContext Context => context;

    public async Task<int> InstallAsync(SystemLayout layout, CancellationToken cancellationToken)
    {
        if (layout.IsLive && UnixFiles.EffectiveUserId != 0)
        {
            throw new DsoException("system install writes to /etc and /var/lib and creates a group: run it as root (sudo docker dso system install)");
        }

        // Live: /etc/dso and dso.yaml belong to root:dso, as the package leaves them, so members of the group can read the configuration.
        (uint Uid, uint Gid)? owner = null;
        if (layout.IsLive)
        {
            await EnsureGroupAsync(cancellationToken);
            owner = (0, Dso.Native.UnixGroups.LookUp(SystemLayout.Group) ?? throw new DsoException($"group {SystemLayout.Group} was created but cannot be found in /etc/group"));
        }

        Directory(layout.ConfigDirectory, "755");
        if (owner is { } configOwner)
        {
            UnixFiles.Chown(layout.ConfigDirectory, configOwner.Uid, configOwner.Gid);
        }

        Directory(layout.StateDirectory, "700");
        Directory(layout.UnitDirectory, "755");
        var executable = Environment.ProcessPath ?? "/usr/local/lib/docker/cli-plugins/docker-dso";
        if (SystemLayout.Executables.Select(name => Path.Combine(Path.GetDirectoryName(executable)!, name)).Where(File.Exists)
            .Select(RootOnlyPath.Problem).FirstOrDefault(problem => problem is not null) is { } unsafeBecause)
        {
            CopyExecutables(executable, layout.At(SystemLayout.LibraryDirectory), unsafeBecause);
            executable = Path.Combine(SystemLayout.LibraryDirectory, Path.GetFileName(executable));
        }

        var agent = Path.Combine(Path.GetDirectoryName(executable)!, Dso.Ipc.AgentExecutable.Name);
        Write(Path.Combine(layout.UnitDirectory, SystemLayout.AgentUnit), SystemLayout.Resource(SystemLayout.AgentUnit).Replace("@DSO_AGENT@", agent, StringComparison.Ordinal), "644");
        Write(Path.Combine(layout.UnitDirectory, SystemLayout.MountUnit), SystemLayout.Resource(SystemLayout.MountUnit), "644");
        var config = Path.Combine(layout.ConfigDirectory, "dso.yaml");
        if (File.Exists(config))
        {
            Context.Out.WriteLine($"kept:      {config} (yours)");
        }
        else
        {
            Write(config, SystemLayout.Resource("dso.yaml"), "640", owner);
        }

        if (!layout.IsLive)
        {
            Context.Out.WriteLine($"Installed under {layout.Root}; no group was created and systemd was not asked to start anything.");
            return ExitCodes.Success;
        }

        if (!Systemd.IsRunning(Context))
        {
            Context.Out.WriteLine("systemd is not running on this host: start the agent yourself with");
            Context.Out.WriteLine($"  {agent} --config /etc/dso/dso.yaml");
            return ExitCodes.Success;
        }

        foreach (var args in new[] { new[] { "daemon-reload" }, ["enable", "--now", SystemLayout.MountUnit, SystemLayout.AgentUnit] })
        {
            var result = await ChildProcess.RunAsync("systemctl", args, null, cancellationToken);
            if (!result.Succeeded)
            {
                throw new DsoException($"systemctl {string.Join(' ', args)} failed: {result.StandardError.Trim()}; see 'journalctl -u {SystemLayout.AgentUnit}'");
            }
        }

        Context.Out.WriteLine($"dso-agent is running; add operators to the group: sudo usermod -aG {SystemLayout.Group} USER");
        return ExitCodes.Success;
    }

    private async Task EnsureGroupAsync(CancellationToken cancellationToken)
    {
        if (Dso.Native.UnixGroups.LookUp(SystemLayout.Group) is not null)
        {
            Context.Out.WriteLine($"kept:      group {SystemLayout.Group}");
            return;
        }

        var result = await ChildProcess.RunAsync("groupadd", ["--system", SystemLayout.Group], null, cancellationToken);
        if (!result.Succeeded)
        {
            throw new DsoException($"groupadd --system {SystemLayout.Group} failed: {result.StandardError.Trim()}");
        }

        Context.Out.WriteLine($"created:   group {SystemLayout.Group}");
    }

    /// <summary>
    /// Copies docker-dso and what sits beside it (dso-agent, dso-init, libsodium.so) into a
    /// root-owned directory, each replaced atomically.
    /// </summary>
    private void CopyExecutables(string executable, string directory, string reason)
    {
        Context.Out.WriteLine($"{executable} is not safe for root to run at every boot ({reason}); installing a root-owned copy");
        Directory(directory, "755");
        var source = Path.GetDirectoryName(executable)!;
        foreach (var name in SystemLayout.Executables)
        {
            var from = Path.Combine(source, name);
            if (!File.Exists(from))
            {
                continue;
            }

            var to = Path.Combine(directory, name);
            var bytes = File.ReadAllBytes(from);
            if (File.Exists(to) && File.ReadAllBytes(to).AsSpan().SequenceEqual(bytes) && RootOnlyPath.Problem(to) is null)
            {
                Context.Out.WriteLine($"unchanged: {to}");
                continue;
            }

            var verb = File.Exists(to) ? "updated:" : "installed:";
            AtomicFile.Write(to, bytes, (UnixFileMode)Convert.ToInt32(name.EndsWith(".so", StringComparison.Ordinal) ? "644" : "755", 8), durable: true);
            UnixFiles.Chown(to, 0, 0);
            Context.Out.WriteLine($"{verb,-10} {to}");
        }
    }

    private void Directory(string path, string mode)
    {
        var unixMode = (UnixFileMode)Convert.ToInt32(mode, 8);
        if (System.IO.Directory.Exists(path))
        {
            File.SetUnixFileMode(path, unixMode);
            return;
        }

        UnixFiles.CreateDirectory(path, unixMode);
        Context.Out.WriteLine($"created:   {path}");
    }

    private void Write(string path, string content, string mode, (uint Uid, uint Gid)? owner = null)
    {
        var verb = !File.Exists(path) ? "installed" : File.ReadAllText(path) == content ? null : "updated";
        if (verb is null)
        {
            Context.Out.WriteLine($"unchanged: {path}");
            return;
        }

        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(content), (UnixFileMode)Convert.ToInt32(mode, 8), durable: true, owner);
        Context.Out.WriteLine($"{verb + ":",-10} {path}");
    }
}
