using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Planning;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `up` end to end (spec 4.4): load the project, resolve and materialize its secrets, then run a
/// compose subcommand (up, run, create, start, restart) with the override applied.
/// </summary>
internal static class StackDeployment
{
    public static async Task<int> RunAsync(StackSession session, ComposeOptions options, string subcommand, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        // Probing which compose is installed runs a process: let it overlap the work below.
        var frontEndProbe = session.FrontEndAsync(cancellationToken);
        var endpoint = session.LocalEngine();
        var project = session.LoadProject(options);
        var store = session.Store();
        var launcher = LauncherLocator.Find(session.Context.GetEnvironmentVariable);
        var owned = new List<IDisposable>();
        PreparedStack prepared;
        try
        {
            using var images = new EngineImageInspector(endpoint);
            var preparer = new StackPreparer(session.Providers(owned), store, images, FingerprintKey.LoadOrCreate(session.DsoHome), launcher);
            prepared = await preparer.PrepareAsync(
                project,
                async missing => await EnsureImagesAsync(session, await frontEndProbe, project, missing, cancellationToken),
                async service => (await frontEndProbe).BuiltImageName(project.Name, service),
                cancellationToken);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }

        var frontEnd = await frontEndProbe;
        foreach (var warning in prepared.Warnings)
        {
            session.Warn(warning);
        }

        if (prepared.OverrideFile is null)
        {
            session.Say($"project {project.Name} references no secrets; running {frontEnd.DisplayName} {subcommand} unchanged");
        }
        else
        {
            session.Say($"delivered {prepared.SecretCount} secret{(prepared.SecretCount == 1 ? string.Empty : "s")} to {string.Join(", ", prepared.ManagedServices)} through {store.ProjectDirectory(project.Name)} (RAM, never on disk)");
        }

        int exitCode;
        try
        {
            exitCode = await session.RunComposeAsync(frontEnd, project, prepared.OverrideFile, subcommand, arguments, cancellationToken);
        }
        finally
        {
            if (prepared.OverrideFile is not null)
            {
                File.Delete(prepared.OverrideFile);
            }
        }

        if (exitCode != 0)
        {
            throw new DsoException($"{frontEnd.DisplayName} {subcommand} failed (exit {exitCode}); its output is above");
        }

        if (prepared.OverrideFile is not null)
        {
            session.Say("local mode: no agent runs, so nothing rotates these secrets or restores them after a reboot; run 'docker dso up' again after changing one");
        }

        return ExitCodes.Success;
    }

    private static async Task EnsureImagesAsync(StackSession session, ComposeFrontEnd frontEnd, ComposeProject project, IReadOnlyList<ComposeService> missing, CancellationToken cancellationToken)
    {
        var toBuild = missing.Where(s => s.HasBuild).Select(s => s.Name).ToList();
        var toPull = missing.Where(s => !s.HasBuild).Select(s => s.Name).ToList();
        if (toPull.Count > 0 && await session.RunComposeAsync(frontEnd, project, null, "pull", toPull, cancellationToken) != 0)
        {
            throw new DsoException($"{frontEnd.DisplayName} pull {string.Join(' ', toPull)} failed; DSO needs each image's entrypoint before it can start the service");
        }

        if (toBuild.Count > 0 && await session.RunComposeAsync(frontEnd, project, null, "build", toBuild, cancellationToken) != 0)
        {
            throw new DsoException($"{frontEnd.DisplayName} build {string.Join(' ', toBuild)} failed");
        }
    }
}
