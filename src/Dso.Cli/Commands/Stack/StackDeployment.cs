using Dso.Cli.Agent;
using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Planning;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `up` end to end (spec 4.4): load the project, plan it, have its secrets resolved and written —
/// by the agent when one runs, else here — then run a compose subcommand (up, run, create, start,
/// restart) with the override applied. When the agent's proxy took over host ports from compose
/// `ports:`, compose runs on the rendered project without them (<see cref="ComposeRenderer"/>).
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
        using var agent = await session.ConnectAgentAsync(cancellationToken);
        StackPlan plan;
        using (var images = new EngineImageInspector(endpoint))
        {
            plan = await new StackPlanner(images).PlanAsync(
                project,
                async missing => await EnsureImagesAsync(session, await frontEndProbe, project, missing, cancellationToken),
                async service => (await frontEndProbe).BuiltImageName(project.Name, service),
                cancellationToken);
        }

        foreach (var warning in plan.Warnings)
        {
            session.Warn(warning);
        }

        var frontEnd = await frontEndProbe;
        if (plan.Services.Count == 0)
        {
            session.Say($"project {project.Name} references no secrets; running {frontEnd.DisplayName} {subcommand} unchanged");
            return await RunComposeAsync(session, frontEnd, project, null, subcommand, arguments, cancellationToken);
        }

        var owned = new List<IDisposable>();
        MaterializedStack materialized;
        IStackMaterializer materializer;
        try
        {
            materializer = agent is null
                ? new LocalMaterializer(session.Providers(owned), store, FingerprintKey.LoadOrCreate(session.DsoHome))
                : new AgentMaterializer(agent);
            var references = plan.Services.Sum(s => s.References.Count);
            using (Terminal.Progress(session.Context, $"resolving {references} secret reference{(references == 1 ? string.Empty : "s")} for {plan.Services.Count} service{(plan.Services.Count == 1 ? string.Empty : "s")}"))
            {
                materialized = await materializer.MaterializeAsync(plan, cancellationToken);
            }
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }

        var services = string.Join(", ", plan.Services.Select(s => s.Service.Name));
        session.Say($"delivered {materialized.SecretCount} secret{(materialized.SecretCount == 1 ? string.Empty : "s")} to {services} through {materializer.Location(project.Name)} (RAM, never on disk)");
        foreach (var warning in materialized.Warnings)
        {
            session.Warn(warning);
        }

        if (agent is null && plan.Services.Where(s => s.Service.Labels.ContainsKey(RotationLabels.HostPorts)).Select(s => s.Service.Name).ToList() is { Count: > 0 } proxied)
        {
            session.Warn($"{string.Join(", ", proxied)}: label {RotationLabels.HostPorts} needs the agent, whose proxy owns those ports; without it they are not published");
        }

        var moved = materialized.MovedPorts;
        var overrideFile = store.WritePrivate(project.Name, $".compose-override-{Environment.ProcessId}.yml", OverrideBuilder.Build(plan, materialized, launcher, renderSentinel: moved.Count > 0));
        string? rendered = null;
        try
        {
            foreach (var (service, ports) in moved)
            {
                session.Say($"{service}: the agent's proxy owns {string.Join(", ", ports.Select(p => p.ToString()))}; compose does not publish {(ports.Count == 1 ? "it" : "them")}");
            }

            if (moved.Count > 0)
            {
                var config = await session.ComposeConfigAsync(frontEnd, project, overrideFile, cancellationToken);
                rendered = store.WritePrivate(project.Name, $".compose-rendered-{Environment.ProcessId}.yml", ComposeRenderer.RemovePorts(config, moved));
            }

            await RunComposeAsync(session, frontEnd, project, overrideFile, subcommand, arguments, cancellationToken, rendered);
        }
        finally
        {
            File.Delete(overrideFile);
            if (rendered is not null)
            {
                File.Delete(rendered);
            }
        }

        session.Say(agent is null
            ? "local mode: no agent runs, so nothing rotates these secrets or restores them after a reboot; run 'docker dso up' again after changing one"
            : "registered with the agent, which keeps these secrets in place across restarts and reboots and rotates the containers when they change");
        return ExitCodes.Success;
    }

    private static async Task<int> RunComposeAsync(StackSession session, ComposeFrontEnd frontEnd, ComposeProject project, string? overrideFile, string subcommand, IReadOnlyList<string> arguments, CancellationToken cancellationToken, string? rendered = null)
    {
        var exitCode = await session.RunComposeAsync(frontEnd, project, overrideFile, subcommand, arguments, cancellationToken, rendered);
        return exitCode == 0
            ? ExitCodes.Success
            : throw new DsoException($"{frontEnd.DisplayName} {subcommand} failed (exit {exitCode}); its output is above");
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
