using System.CommandLine;
using Dso.Cli.Agent;
using Dso.Cli.Commands.Stack;
using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Swarm;
using Dso.Ipc;

namespace Dso.Cli.Commands.Swarm;

/// <summary>
/// `docker dso stack deploy -c FILE… NAME`: resolve the stack's references, create each value as a
/// Swarm secret version (new name when the value changed), deploy with `docker stack deploy` and a
/// generated file that mounts them (no values in it), wait until Swarm's own rolling update — with
/// the stack's update_config — has the tasks on the new versions or has rolled back, then remove the
/// versions nothing uses any more. Run again after a secret changes and it is a rotation.
/// </summary>
internal sealed class StackDeployCommand : DsoCommand
{
    private readonly Argument<string> _stack = new("STACK") { Description = "The stack's name (services become STACK_SERVICE)." };
    private readonly Option<string[]> _files = new("--compose-file", "-c") { Description = "Compose file(s), merged in order as docker stack deploy does.", HelpName = "FILE", Required = true, AllowMultipleArgumentsPerToken = false };
    private readonly Option<string> _timeout = new("--timeout") { Description = "How long to wait for the services to converge.", HelpName = "DURATION", DefaultValueFactory = _ => "5m" };
    private readonly Option<bool> _detach = new("--detach", "-d") { Description = "Do not wait for convergence (and so remove no old secret versions)." };
    private readonly Option<bool> _prune = new("--prune") { Description = "Passed to docker stack deploy: remove services the files no longer name." };
    private readonly Option<bool> _registryAuth = new("--with-registry-auth") { Description = "Passed to docker stack deploy: send registry credentials to the agents." };

    public StackDeployCommand(CliContext context)
        : base(context, "deploy", "Deploy a stack to Swarm: references become versioned Swarm secrets; a changed value rolls the services that use it.")
    {
        Arguments.Add(_stack);
        Options.Add(_files);
        Options.Add(_timeout);
        Options.Add(_detach);
        Options.Add(_prune);
        Options.Add(_registryAuth);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var stack = parseResult.GetValue(_stack)!;
        if (stack.Length == 0 || stack.Length > SwarmNames.MaxStackLength || stack != ComposeLoader.NormalizeProjectName(stack))
        {
            throw new UsageException($"'{stack}' is not a stack name DSO can use: at most {SwarmNames.MaxStackLength} lower-case letters, digits, '-' and '_', starting with a letter or digit");
        }

        var timeoutText = parseResult.GetValue(_timeout)!;
        if (!Duration.TryParse(timeoutText, out var timeout) || timeout <= TimeSpan.Zero)
        {
            throw new UsageException($"--timeout {timeoutText}: not a duration; write e.g. 90s or 5m");
        }

        var session = new StackSession(Context);
        var files = parseResult.GetValue(_files)!;
        var project = session.LoadProject(new ComposeOptions(files, stack, null, null, []));
        var endpoint = EngineEndpoint.Resolve(Context.GetEnvironmentVariable);
        using var swarm = new SwarmEngine(endpoint);
        await swarm.RequireManagerAsync(cancellationToken);
        var launcher = LauncherLocator.Find(Context.GetEnvironmentVariable);

        StackPlan plan;
        using (var images = new EngineImageInspector(endpoint))
        {
            plan = await new StackPlanner(images).PlanAsync(
                project,
                missing => PullAsync(session, missing, cancellationToken),
                service => throw new DsoException($"{project.Find(service)!.Where}: service {service} has build: but no image:; docker stack deploy does not build — build and push the image, then name it in image:"),
                cancellationToken);
        }

        foreach (var warning in plan.Warnings)
        {
            session.Warn(warning);
        }

        var deployArguments = new List<string> { "stack", "deploy" };
        foreach (var file in project.Files)
        {
            deployArguments.AddRange(["-c", file]);
        }

        if (plan.Services.Count == 0)
        {
            session.Say($"stack {stack} references no secrets; running docker stack deploy unchanged");
            return await DeployAsync(session, deployArguments, parseResult, stack, cancellationToken);
        }

        using var agent = await session.ConnectAgentAsync(cancellationToken);
        var before = new Dictionary<string, IReadOnlySet<string>?>(StringComparer.Ordinal);
        foreach (var service in plan.Services)
        {
            before[service.Service.Name] = await swarm.ServiceSecretsAsync(SwarmNames.Service(stack, service.Service.Name), cancellationToken);
        }

        IReadOnlyList<SwarmServiceSecrets> secrets;
        var references = plan.ReferenceCount;
        using (Terminal.Progress(Context, $"resolving {references} secret reference{(references == 1 ? string.Empty : "s")} for {plan.Services.Count} service{(plan.Services.Count == 1 ? string.Empty : "s")}{(agent is null ? string.Empty : " (by the agent)")}"))
        {
            secrets = agent is null ? await LocalVersionsAsync(session, stack, plan, swarm, cancellationToken) : await AgentVersionsAsync(session, agent, plan, cancellationToken);
        }

        var overrideText = SwarmOverride.Build(plan, secrets, launcher);
        var store = session.Store();
        // A compose project name never has a '.', so this directory is no project's.
        var scratch = $"swarm.{stack}";
        var overrideFile = store.WritePrivate(scratch, $".stack-override-{Environment.ProcessId}.yml", overrideText);
        int exitCode;
        try
        {
            deployArguments.AddRange(["-c", overrideFile]);
            exitCode = await DeployAsync(session, deployArguments, parseResult, stack, cancellationToken);
        }
        finally
        {
            File.Delete(overrideFile);
            store.RemoveProject(scratch);
        }

        if (parseResult.GetValue(_detach))
        {
            session.Say("--detach: not waiting for the services to converge; old secret versions stay until the next deploy");
            return exitCode;
        }

        var waits = secrets.Select(s =>
        {
            var wanted = s.Mounts.Select(m => m.SecretName).ToHashSet(StringComparer.Ordinal);
            var previous = before[s.Service];
            return (SwarmNames.Service(stack, s.Service), (IReadOnlySet<string>)wanted, previous is not null && !wanted.IsSubsetOf(previous));
        }).ToList();
        IReadOnlyList<SwarmOutcome> outcomes;
        using (Terminal.Progress(Context, $"waiting for {string.Join(", ", waits.Select(w => w.Item1))} to converge"))
        {
            outcomes = await swarm.WaitAsync(waits, timeout, cancellationToken);
        }

        foreach (var outcome in outcomes)
        {
            session.Say($"{outcome.Service}: {(outcome.Succeeded ? "converged" : "FAILED")}: {outcome.Detail}");
        }

        var pruned = await swarm.PruneAsync(stack, cancellationToken);
        if (pruned.Count > 0)
        {
            session.Say($"removed {pruned.Count} secret version{(pruned.Count == 1 ? string.Empty : "s")} no task uses any more: {string.Join(", ", pruned)}");
        }

        if (outcomes.All(o => o.Succeeded))
        {
            session.Say(agent is null
                ? "no agent runs, so nothing watches these secrets; run docker dso stack deploy again after changing one"
                : "registered with the agent, which rolls these services through Swarm when a secret they use changes");
            return ExitCodes.Success;
        }

        throw new DsoException($"stack {stack}: {string.Join("; ", outcomes.Where(o => !o.Succeeded).Select(o => $"{o.Service} {o.Detail}"))}");
    }

    /// <summary>No agent: the values are resolved here, and the versions made from this engine.</summary>
    private static async Task<IReadOnlyList<SwarmServiceSecrets>> LocalVersionsAsync(StackSession session, string stack, StackPlan plan, SwarmEngine swarm, CancellationToken cancellationToken)
    {
        var owned = new List<IDisposable>();
        SwarmMaterial material;
        try
        {
            using var values = await ReferenceResolver.ResolveAsync(plan.Services.SelectMany(s => s.References), session.Providers(owned), cancellationToken);
            material = SwarmMaterial.Build(stack, [.. plan.Services.Select(s => (s.Service.Name, s.References, s.Owner))], values, FingerprintKey.LoadOrCreate(session.DsoHome));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }

        using (material)
        {
            var created = await swarm.EnsureSecretsAsync(material.Secrets, cancellationToken);
            Announce(session, material.Secrets.Count, created, material.Services);
            return material.Services;
        }
    }

    /// <summary>An agent runs: it resolves the values with its own providers and makes the versions; the answer holds only names and mounts.</summary>
    private static async Task<IReadOnlyList<SwarmServiceSecrets>> AgentVersionsAsync(StackSession session, AgentClient agent, StackPlan plan, CancellationToken cancellationToken)
    {
        var result = await agent.PostAsync("/v1/swarm/stacks", AgentMaterializer.Registration(plan, ProjectRegistration.SwarmKind), IpcJson.Wire.ProjectRegistration, IpcJson.Wire.SwarmDeployResult, cancellationToken);
        var services = result.Services.Select(s => new SwarmServiceSecrets(
            s.Name,
            [.. s.Mounts.Select(m => new SwarmSecretMount(m.Secret, m.Target, m.Uid, m.Gid, (UnixFileMode)Convert.ToInt32(m.Mode, 8)))],
            s.Fingerprint)).ToList();
        foreach (var warning in result.Warnings ?? [])
        {
            session.Warn(warning);
        }

        if (result.Driver is { } driver)
        {
            session.Say($"{result.Versions} secret version{(result.Versions == 1 ? string.Empty : "s")} for {string.Join(", ", services.Select(s => s.Service))} in Swarm ({result.Created} new) with driver {driver}: Swarm stores names and labels only and asks the agent for each value when it starts a task");
        }
        else
        {
            Announce(session, result.Versions, result.Created, services);
        }

        return services;
    }

    private static void Announce(StackSession session, int versions, int created, IReadOnlyList<SwarmServiceSecrets> services) =>
        session.Say($"{versions} secret version{(versions == 1 ? string.Empty : "s")} for {string.Join(", ", services.Select(s => s.Service))} in Swarm ({created} new); Swarm keeps them encrypted and mounts them on tmpfs in each task");

    private async Task<int> DeployAsync(StackSession session, List<string> arguments, ParseResult parseResult, string stack, CancellationToken cancellationToken)
    {
        if (parseResult.GetValue(_prune))
        {
            arguments.Add("--prune");
        }

        if (parseResult.GetValue(_registryAuth))
        {
            arguments.Add("--with-registry-auth");
        }

        arguments.Add(stack);
        var exitCode = await session.RunDockerAsync(arguments, cancellationToken);
        return exitCode == 0 ? ExitCodes.Success : throw new DsoException($"docker stack deploy failed (exit {exitCode}); its output is above");
    }

    private static async Task PullAsync(StackSession session, IReadOnlyList<ComposeService> missing, CancellationToken cancellationToken)
    {
        foreach (var image in missing.Select(s => s.Image).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (await session.RunDockerAsync(["pull", image], cancellationToken) != 0)
            {
                throw new DsoException($"docker pull {image} failed; DSO needs the image's entrypoint before it can deploy the service");
            }
        }
    }
}
