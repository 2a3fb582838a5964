using System.CommandLine;
using Dso.Cli.Doctor;
using Dso.Cli.Vault;
using Dso.Configuration;
using Dso.Native;

namespace Dso.Cli.Commands.Setup;

/// <summary>
/// `docker dso setup [--mode local|agent] [--non-interactive]`. Local: checks what `up` needs
/// (engine, compose, the launcher, dso.yaml), and only when all pass creates the vault's directory
/// (0700) and, where no dso.yaml is found, a starting ~/.config/dso/dso.yaml naming the local vault;
/// then says what comes next. Agent: <see cref="AgentBootstrap"/>, as `bootstrap agent`.
/// </summary>
internal sealed class SetupCommand : DsoCommand
{
    private static readonly string[] Prerequisites = ["config.valid", "engine.local", "engine.reachable", "compose.available", "launcher.installed"];

    private readonly Option<string?> _mode = new("--mode") { Description = "local: this user, the local vault, no daemon; agent: the agent as a systemd service (as root, like 'bootstrap agent').", HelpName = "local|agent" };
    private readonly Option<bool> _nonInteractive = new("--non-interactive") { Description = "Ask nothing; take the defaults (mode local)." };
    private readonly Option<string?> _provider = new("--provider") { Description = "Agent mode: the provider the agent reads (as 'bootstrap agent --provider').", HelpName = "TYPE" };

    public SetupCommand(CliContext context)
        : base(context, "setup", "Prepare this host for DSO: local mode (your vault, no daemon) or agent mode (the systemd service).")
    {
        Options.Add(_mode);
        Options.Add(_nonInteractive);
        Options.Add(_provider);
        _mode.AcceptOnlyFromAmong("local", "agent");
        _provider.AcceptOnlyFromAmong([.. AgentBootstrap.ProviderTypes]);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var interactive = !parseResult.GetValue(_nonInteractive) && Context.InputIsTerminal;
        var mode = parseResult.GetValue(_mode);
        if (mode is null && interactive)
        {
            mode = Context.ReadLine("mode: local (your vault, no daemon) or agent (systemd service, as root) [local]: ")?.Trim();
            if (mode is not (null or "" or "local" or "agent"))
            {
                throw new UsageException($"mode '{mode}': answer local or agent");
            }
        }

        if (mode == "agent")
        {
            return await new AgentBootstrap(Context).RunAsync(parseResult.GetValue(_provider), interactive, cancellationToken);
        }

        if (parseResult.GetValue(_provider) is not null)
        {
            throw new UsageException("--provider is for --mode agent; in local mode name providers in dso.yaml (docs/providers.md)");
        }

        return await LocalAsync(interactive, cancellationToken);
    }

    private async Task<int> LocalAsync(bool interactive, CancellationToken cancellationToken)
    {
        var checks = (await new Checkup(Context).RunAsync(cancellationToken)).Where(c => Prerequisites.Contains(c.Id)).ToList();
        foreach (var check in checks)
        {
            Context.Out.WriteLine($"{(check.Verdict == "fail" ? "FAIL" : check.Verdict),-5} {check.Id,-19} {check.Detail}");
        }

        if (checks.Where(c => c.Verdict == "fail").ToList() is { Count: > 0 } failed)
        {
            foreach (var check in failed)
            {
                Context.Error.WriteLine($"  {check.Id}: {check.Fix}");
            }

            throw new DsoException($"{failed.Count} prerequisite(s) failed (above); nothing was written");
        }

        var settings = new VaultAccess(Context).Settings;
        var home = Path.GetDirectoryName(settings.VaultPath)!;
        if (Directory.Exists(home))
        {
            Context.Out.WriteLine($"kept:      {home}");
        }
        else
        {
            UnixFiles.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Context.Out.WriteLine($"created:   {home} (0700)");
        }

        if (ConfigLoader.Find(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory) is { } existing)
        {
            Context.Out.WriteLine($"kept:      {existing}");
        }
        else if (Context.GetEnvironmentVariable("HOME") is { } userHome)
        {
            var path = Path.Combine(Context.GetEnvironmentVariable("XDG_CONFIG_HOME") ?? Path.Combine(userHome, ".config"), "dso", ConfigLoader.FileName);
            var answer = interactive ? Context.ReadLine($"write a starting {path}? [Y/n]: ")?.Trim() : null;
            if (answer is null or "" or "y" or "Y" or "yes")
            {
                var text = $"# Written by docker dso setup --mode local. Every key: docs/configuration.md.\nversion: v1.0.0\nmode: local\nproviders:\n  local:\n    type: local\n    vault_file: \"{settings.VaultPath}\"\n";
                ConfigLoader.Parse(path, text, Context.GetEnvironmentVariable);
                UnixFiles.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite, durable: true);
                Context.Out.WriteLine($"created:   {path}");
            }
        }

        Context.Out.WriteLine(File.Exists(settings.VaultPath)
            ? $"vault:     {settings.VaultPath} exists; next: docker dso secret set APP/NAME, a dso://APP/NAME reference in compose.yaml, docker dso up -d"
            : $"next:      docker dso init (creates {settings.VaultPath}), docker dso secret set APP/NAME, a dso://APP/NAME reference in compose.yaml, docker dso up -d");
        return ExitCodes.Success;
    }
}
