using System.Buffers.Binary;
using Dso.Cli.Commands.Stack;
using Dso.Cli.Commands.SystemService;
using Dso.Injection.Compose;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Processes;

namespace Dso.Cli.Doctor;

/// <summary>
/// `doctor --level full`: the basic checks, then what takes longer or looks deeper — the agent's
/// systemd units, that the launcher is a static executable (it must run in any image), that the
/// RAM directory takes a file, and that every reference of the compose project in the working
/// directory resolves (a project's own dso.yaml starts no provider program and contacts no
/// provider endpoint unless <c>allowProviders</c>, as with validate).
/// </summary>
internal sealed partial class Checkup
{
    private static readonly string[] ComposeFileNames = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

    public async Task<IReadOnlyList<DoctorCheck>> RunFullAsync(bool allowProviders, CancellationToken cancellationToken)
    {
        var checks = (await RunAsync(cancellationToken)).ToList();
        checks.Add(await GuardAsync("service.unit", () => ServiceUnitCheckAsync(cancellationToken), "docker dso system install (or install the dso package)"));
        checks.Add(Guard("launcher.static", () => LauncherCheck(LauncherLocator.Find(Variable)), "reinstall DSO (scripts/install.sh or the package): the launcher must be the static dso-init"));
        if (!checks.Any(c => c.Id == "agent.running" && c.Verdict == "pass"))
        {
            checks.Add(Guard("secrets_dir.writable", SecretsDirectoryCheck, "point DSO_SECRETS_DIR at a tmpfs you can write"));
        }

        checks.Add(await GuardAsync("project.references", () => ProjectCheckAsync(allowProviders, cancellationToken), "docker dso validate shows each reference and what is wrong with it"));
        return checks;
    }

    private async Task<DoctorCheck> ServiceUnitCheckAsync(CancellationToken cancellationToken)
    {
        if (!Systemd.IsRunning(context))
        {
            return DoctorCheck.Pass("service.unit", "systemd is not this host's init: the agent runs only when you start it (docker dso agent)");
        }

        var enabled = (await ChildProcess.RunAsync("systemctl", ["is-enabled", SystemLayout.AgentUnit], null, cancellationToken)).StandardOutput.Trim();
        var active = (await ChildProcess.RunAsync("systemctl", ["is-active", SystemLayout.AgentUnit], null, cancellationToken)).StandardOutput.Trim();
        return (enabled, active) switch
        {
            ("enabled", "active") => DoctorCheck.Pass("service.unit", $"{SystemLayout.AgentUnit} enabled and active"),
            ("" or "not-found", _) => DoctorCheck.Warn("service.unit", $"{SystemLayout.AgentUnit} is not installed", "sudo docker dso system install"),
            (_, "active") => DoctorCheck.Warn("service.unit", $"{SystemLayout.AgentUnit} is active but {enabled}: it will not start at boot", "sudo docker dso system enable"),
            _ => DoctorCheck.Warn("service.unit", $"{SystemLayout.AgentUnit} is {enabled} and {active}", "sudo docker dso system enable; docker dso system logs -n 50 says why it stopped"),
        };
    }

    /// <summary>A static ELF has no program interpreter (PT_INTERP): it runs in scratch, distroless and musl images alike.</summary>
    internal static DoctorCheck LauncherCheck(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || !bytes.AsSpan(0, 4).SequenceEqual("\u007fELF"u8) || bytes[4] != 2)
        {
            return DoctorCheck.Fail("launcher.static", $"{path} is not a 64-bit ELF executable", "reinstall DSO");
        }

        var programHeaders = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x20));
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x36));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(0x38));
        for (var i = 0; i < count; i++)
        {
            var at = programHeaders + (i * entrySize);
            if (at + 4 <= bytes.Length && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)) == 3)
            {
                return DoctorCheck.Fail("launcher.static", $"{path} is dynamically linked: it will not start in images without the host's C library", "reinstall DSO");
            }
        }

        return DoctorCheck.Pass("launcher.static", $"{path} is static ({bytes.Length / 1024} KiB)");
    }

    private DoctorCheck SecretsDirectoryCheck()
    {
        var root = Dso.Injection.Secrets.SecretStore.Locate(Variable).Root;
        Directory.CreateDirectory(root);
        var probe = Path.Combine(root, $".doctor-{Environment.ProcessId}");
        File.WriteAllBytes(probe, [1]);
        File.Delete(probe);
        return DoctorCheck.Pass("secrets_dir.writable", $"{root} takes a file");
    }

    private async Task<DoctorCheck> ProjectCheckAsync(bool allowProviders, CancellationToken cancellationToken)
    {
        if (!ComposeFileNames.Any(name => File.Exists(Path.Combine(context.WorkingDirectory, name))))
        {
            return DoctorCheck.Pass("project.references", $"no compose file in {context.WorkingDirectory}: no project to check");
        }

        var session = new StackSession(context);
        var project = session.LoadProject(ComposeOptions.Default);
        var references = ReferenceCollector.Collect(project).Values.SelectMany(r => r).ToList();
        if (references.Count == 0)
        {
            return DoctorCheck.Pass("project.references", $"project {project.Name}: no references");
        }

        var owned = new List<IDisposable>();
        try
        {
            var outcomes = await ReferenceResolver.ResolveEachAsync(references, session.Providers(owned, allowProviders ? null : ValidateCommand.ProjectOwnedConfig(session, project, context.WorkingDirectory)), cancellationToken);
            foreach (var outcome in outcomes)
            {
                outcome.Value?.Dispose();
            }

            var failed = outcomes.Where(o => o.Error is not null).ToList();
            return failed.Count == 0
                ? DoctorCheck.Pass("project.references", $"project {project.Name}: {outcomes.Count} reference(s) resolve")
                : DoctorCheck.Fail("project.references", context.Masked($"project {project.Name}: {failed.Count} of {outcomes.Count} reference(s) do not resolve; first: {failed[0].Reference.Where}: {failed[0].Error}"), "docker dso validate lists them");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }
}
