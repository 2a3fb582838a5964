using Docker.DotNet.Models;
using Dso.Agent.Projects;
using Dso.Injection.Secrets;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>
/// What a strategy applies a service's new values to: the service, its policy, the prepared values,
/// where it records step timings, and the seconds since the rotation began (Elapsed).
/// </summary>
internal sealed record StrategyContext(string Project, ServiceRegistration Service, ServicePolicy Policy, IPreparedValues Prepared, Dictionary<string, double> Timings, Func<double> Elapsed)
{
    /// <summary>A compose service's new files (every strategy but `swarm` works on them).</summary>
    public PreparedSecrets Files => Prepared as PreparedSecrets
        ?? throw new DsoException($"{Project}/{Service.Name} is a Swarm stack's service; strategy {Policy.Strategy} applies to compose services only");
}

/// <summary>What a strategy did: the outcome (<see cref="RotationResult"/>'s words), a message, and the containers it touched.</summary>
internal sealed record StrategyOutcome(string Outcome, string Message, IReadOnlyList<string> Containers);

/// <summary>
/// One way to bring a service's new values to its containers or tasks (spec 5). The values are
/// resolved and found to differ from what the containers have before a strategy runs; a strategy
/// that delivers them commits the new fingerprint (<see cref="ServiceCommits"/>).
/// </summary>
internal interface IRotationStrategy
{
    /// <summary>The name a service's policy gives (`dso.strategy`, `rotation.strategy`).</summary>
    string Name { get; }

    Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken);
}

/// <summary>The strategies by name, as the agent's container registered them.</summary>
internal sealed class RotationStrategies(IEnumerable<IRotationStrategy> strategies)
{
    private readonly Dictionary<string, IRotationStrategy> _byName = strategies.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>The strategy of that name, or null.</summary>
    public IRotationStrategy? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The names, in order.</summary>
    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);
}

/// <summary>Records that a service's containers have the values of a fingerprint (its new baseline).</summary>
internal sealed class ServiceCommits(ProjectRegistry projects, SecretStore store, TimeProvider time)
{
    public void Commit(string project, ServiceRegistration service, string fingerprint) =>
        projects.Commit(project, service.Name, new ServiceState("ok", null, service.References.Count, fingerprint, store.MountPath(project, service.Name), time.GetUtcNow()));
}

/// <summary>`none`: the agent's cache holds the new values; the containers (or a Swarm service's tasks) keep theirs until they are recreated.</summary>
internal sealed class NoneStrategy : IRotationStrategy
{
    public string Name => "none";

    public Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken) =>
        Task.FromResult(new StrategyOutcome(RotationResult.Skipped, context.Prepared is PreparedVersions
            ? "strategy none: the tasks keep the versions they have until the next stack deploy"
            : "strategy none: the agent's cache holds the new values; the containers keep theirs", []));
}

/// <summary>`live`: the files in the service's RAM directory are rewritten in place; the containers run on.</summary>
internal class LiveStrategy(SecretStore store, ServiceCommits commits) : IRotationStrategy
{
    public virtual string Name => "live";

    public virtual Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken)
    {
        Rewrite(context);
        return Task.FromResult(new StrategyOutcome(RotationResult.Rotated, "files rewritten in place" + EnvNote(context.Service), []));
    }

    /// <summary>Writes the new files and commits their fingerprint.</summary>
    protected void Rewrite(StrategyContext context)
    {
        store.Materialize(context.Project, context.Service.Name, context.Files.Files);
        commits.Commit(context.Project, context.Service, context.Prepared.Fingerprint);
    }

    /// <summary>Environment values cannot change in a running process: say which ones wait for the container to be recreated.</summary>
    protected static string EnvNote(ServiceRegistration service)
    {
        var env = service.References.Where(r => r.Reference.StartsWith(Dso.Secrets.SecretReference.EnvScheme, StringComparison.Ordinal)).Select(r => r.Variable).ToList();
        return env.Count == 0 ? string.Empty : $"; environment values ({string.Join(", ", env)}) change when the container is recreated";
    }
}

/// <summary>`signal`: as `live`, then the service's signal (`dso.signal`, default SIGHUP) to each running container.</summary>
internal sealed class SignalStrategy(SecretStore store, ServiceCommits commits, EngineContainers engine) : LiveStrategy(store, commits)
{
    public override string Name => "signal";

    public override async Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken)
    {
        Rewrite(context);
        var signalled = new List<string>();
        foreach (var container in (await engine.OfServiceAsync(context.Project, context.Service.Name, cancellationToken)).Where(c => c.Running))
        {
            await engine.SignalAsync(container.Id, context.Policy.Signal, cancellationToken);
            signalled.Add(container.Name);
        }

        return new StrategyOutcome(RotationResult.Rotated, $"files rewritten in place, {context.Policy.Signal} sent to {(signalled.Count == 0 ? "no running container" : string.Join(", ", signalled))}" + EnvNote(context.Service), signalled);
    }
}

/// <summary>
/// `restart` and `rolling`: the containers are replaced by new ones on a new generation of the
/// files (<see cref="ContainerSwap"/>, journaled); `rolling` starts the new one beside the old and
/// switches the proxy once it is healthy, or says why it restarts instead.
/// </summary>
internal sealed class SwapStrategy(string name, SecretStore store, ServiceCommits commits, EngineContainers engine, ContainerSwap swap) : IRotationStrategy
{
    public string Name => name;

    public async Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken)
    {
        var (project, service, policy, prepared) = (context.Project, context.Service, context.Policy, context.Files);
        var containers = await engine.OfServiceAsync(project, service.Name, cancellationToken);
        var oldGeneration = store.CurrentGeneration(project, service.Name);
        var newGeneration = store.PrepareGeneration(project, service.Name, prepared.Files);
        if (containers.Count == 0)
        {
            store.Activate(project, service.Name, newGeneration);
            if (oldGeneration is not null && oldGeneration != newGeneration)
            {
                store.RemoveGeneration(project, service.Name, oldGeneration);
            }

            commits.Commit(project, service, prepared.Fingerprint);
            return new StrategyOutcome(RotationResult.Rotated, "no container exists; the next one started gets the new values", []);
        }

        var (mode, why) = name == SwapPhases.Rolling ? RollingOrRestart(policy, containers) : (SwapPhases.Restart, null);
        var plan = new SwapPlan(project, service.Name, mode, policy, containers, oldGeneration, newGeneration, prepared.Fingerprint);
        var problem = await swap.RunAsync(plan, cancellationToken);
        foreach (var (step, seconds) in plan.Timings)
        {
            context.Timings[step] = seconds;
        }

        var names = containers.Select(c => c.Name).ToList();
        if (problem is not null)
        {
            return new StrategyOutcome(RotationResult.Failed, $"{problem}; the old container keeps serving", names);
        }

        commits.Commit(project, service, prepared.Fingerprint);
        return new StrategyOutcome(RotationResult.Rotated, mode == name ? $"{mode} swap done" : $"restart instead of rolling: {why}", names);
    }

    /// <summary>Rolling needs two copies of a container side by side; where that is unsafe or impossible, a restart is done and the reason said.</summary>
    private static (string Mode, string? Why) RollingOrRestart(ServicePolicy policy, IReadOnlyList<ServiceContainer> containers)
    {
        foreach (var container in containers)
        {
            var writable = (container.Inspect.Mounts ?? []).Where(m => m.RW && m.Type is "volume" or "bind").Select(m => m.Destination).ToList();
            if (writable.Count > 0 && !policy.AllowSharedVolumes)
            {
                return (SwapPhases.Restart, $"it mounts writable {string.Join(", ", writable)}, and two containers on one data directory can corrupt it (label dso.rolling.shared-volumes=allow swaps anyway)");
            }

            var bound = (container.Inspect.HostConfig?.PortBindings ?? new Dictionary<string, IList<PortBinding>>())
                .Where(p => p.Value?.Any(b => !string.IsNullOrEmpty(b.HostPort)) == true).Select(p => p.Key).ToList();
            if (bound.Count > 0)
            {
                return (SwapPhases.Restart, $"it publishes {string.Join(", ", bound)} on the host itself, which two containers cannot share");
            }

            if ((container.Inspect.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>()).Values.Any(n => !string.IsNullOrEmpty(n.IPAMConfig?.IPv4Address) || !string.IsNullOrEmpty(n.IPAMConfig?.IPv6Address)))
            {
                return (SwapPhases.Restart, "it has a fixed IP address, which two containers cannot share");
            }
        }

        return (SwapPhases.Rolling, null);
    }
}

/// <summary>
/// `swarm`, a Swarm stack's service: new secret versions for what changed, the service's spec
/// swapped to them, Swarm's rolling update awaited (its rollback is a failure and keeps the old
/// versions), unused versions removed.
/// </summary>
internal sealed class SwarmUpdateStrategy(Swarm.SwarmStacks swarm, ProjectRegistry projects, TimeProvider time) : IRotationStrategy
{
    public string Name => ProjectRegistry.SwarmStrategy;

    public async Task<StrategyOutcome> ApplyAsync(StrategyContext context, CancellationToken cancellationToken)
    {
        var prepared = context.Prepared as PreparedVersions
            ?? throw new DsoException($"{context.Project}/{context.Service.Name} is a compose service; strategy swarm applies to Swarm stacks only");
        var tasks = new[] { Dso.Injection.Swarm.SwarmNames.Service(context.Project, context.Service.Name) };
        var (succeeded, message) = await swarm.RollOutAsync(context.Project, prepared.Material, cancellationToken);
        context.Timings["rollout"] = context.Elapsed();
        if (!succeeded)
        {
            return new StrategyOutcome(RotationResult.Failed, message, tasks);
        }

        projects.Commit(context.Project, context.Service.Name, new ServiceState("ok", null, context.Service.References.Count, prepared.Fingerprint, null, time.GetUtcNow()));
        return new StrategyOutcome(RotationResult.Rotated, message, tasks);
    }
}
