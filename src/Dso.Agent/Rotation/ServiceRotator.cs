using System.Collections.Concurrent;
using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;
using Dso.Agent.Events;
using Dso.Agent.Notifications;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Agent.Swarm;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Injection.Swarm;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Rotates one service (spec 5): resolves its references fresh, and only when the fingerprint of
/// what it consumes differs from what its containers were given (G8) applies its strategy — `live`
/// rewrites the files in place, `signal` also signals the containers, `restart` and `rolling` swap
/// them (<see cref="ContainerSwap"/>), `none` leaves them. The result goes to status, metrics, the
/// event stream, the audit log and notifications. The caller holds the project's lock.
/// </summary>
internal sealed partial class ServiceRotator(
    ProjectRegistry projects,
    AgentProviders providers,
    SecretStore store,
    FingerprintKey fingerprints,
    EngineContainers engine,
    ContainerSwap swap,
    SwarmStacks swarm,
    RotationBook book,
    AgentNotifier notifier,
    EventHub events,
    AuditLog audit,
    DsoMetrics metrics,
    TimeProvider time,
    ILogger<ServiceRotator> log)
{
    private readonly ConcurrentDictionary<(string Project, string Service), string> _failedFingerprints = new();

    public async Task<RotationResult> RotateAsync(string project, string service, RotationTrigger trigger, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var managed = projects.TryGet(project);
        var registration = managed?.Registration.Services.FirstOrDefault(s => s.Name == service);
        if (managed is null || registration is null)
        {
            return new RotationResult(project, service, "none", RotationResult.Skipped, $"{project}/{service} is not managed by the agent", trigger.Trigger, started, 0, []);
        }

        var policy = projects.PolicyOf(managed.Registration, registration, trigger.Variables);
        var timings = new Dictionary<string, double>(StringComparer.Ordinal);
        RotationResult Result(string outcome, string message, IReadOnlyList<string>? containers = null) =>
            new(project, service, policy.Strategy, outcome, message, trigger.Trigger, started, Math.Round(clock.Elapsed.TotalSeconds, 3), containers ?? [], timings.Count == 0 ? null : timings);

        if (trigger.ChangedAt is { } changedAt && started >= changedAt)
        {
            metrics.DetectionLatency.WithLabels(trigger.Trigger).Observe((started - changedAt).TotalSeconds);
        }

        if (!policy.Enabled)
        {
            return Finish(Result(RotationResult.Skipped, "rotation is disabled for this service (rotation.enabled: false)"), trigger);
        }

        if (managed.Registration.IsSwarm)
        {
            return await RotateSwarmAsync(managed, registration, policy, trigger, Result, timings, clock, cancellationToken);
        }

        PreparedSecrets prepared;
        try
        {
            prepared = await PrepareAsync(project, registration, cancellationToken);
            timings["resolve"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        }
        catch (DsoException e)
        {
            return Finish(Result(RotationResult.Failed, $"cannot resolve its secrets ({e.Message}); its containers keep the values they have"), trigger);
        }

        using (prepared)
        {
            var baseline = managed.Services.GetValueOrDefault(service)?.Fingerprint;
            if (baseline is null)
            {
                // Registered by an agent that kept no baseline: adopt what the providers hold now rather than rotate on a guess.
                projects.Commit(project, service, Committed(project, registration, prepared.Fingerprint));
                return Result(RotationResult.Unchanged, "no baseline was recorded; the current values were adopted as it");
            }

            if (prepared.Fingerprint == baseline && !trigger.Force)
            {
                return Result(RotationResult.Unchanged, "the values it consumes are the ones its containers have");
            }

            if (!trigger.Force && !trigger.Manual && _failedFingerprints.TryGetValue((project, service), out var failed) && failed == prepared.Fingerprint)
            {
                return Result(RotationResult.Unchanged, "these values failed to roll out before; 'docker dso rotate' retries them");
            }

            projects.Mark(project, service, "rotating", $"{policy.Strategy} rotation ({trigger.Trigger})");
            events.Publish("rotation.started", project, service, $"{policy.Strategy} rotation ({trigger.Trigger})");
            LogStarted(project, service, policy.Strategy, trigger.Trigger);
            try
            {
                var (outcome, message, containers) = await ApplyAsync(project, registration, policy, prepared, timings, cancellationToken);
                if (outcome == RotationResult.Failed)
                {
                    _failedFingerprints[(project, service)] = prepared.Fingerprint;
                }
                else
                {
                    _failedFingerprints.TryRemove((project, service), out _);
                }

                return Finish(Result(outcome, message, containers), trigger);
            }
            catch (Exception e) when (e is DsoException or IOException or DockerApiException or HttpRequestException)
            {
                _failedFingerprints[(project, service)] = prepared.Fingerprint;
                return Finish(Result(RotationResult.Failed, $"{e.Message}; its containers keep the values they have"), trigger);
            }
        }
    }

    /// <summary>
    /// A service of a Swarm stack: new versions for what changed, the service's spec swapped to
    /// them, Swarm's rolling update awaited (its rollback is a failure and keeps the old versions),
    /// unused versions removed. Baseline and retry rules as for a compose service.
    /// </summary>
    private async Task<RotationResult> RotateSwarmAsync(
        ManagedProject managed, ServiceRegistration service, ServicePolicy policy, RotationTrigger trigger, Func<string, string, IReadOnlyList<string>?, RotationResult> result, Dictionary<string, double> timings, Stopwatch clock, CancellationToken cancellationToken)
    {
        var key = (managed.Name, service.Name);
        SwarmMaterial material;
        try
        {
            material = await swarm.PrepareAsync(managed.Name, service, cancellationToken);
            timings["resolve"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        }
        catch (DsoException e)
        {
            return Finish(result(RotationResult.Failed, $"cannot resolve its secrets ({e.Message}); its tasks keep the versions they have", null), trigger);
        }

        using (material)
        {
            var fingerprint = material.Services.Single().Fingerprint;
            var baseline = managed.Services.GetValueOrDefault(service.Name)?.Fingerprint;
            if (fingerprint == baseline && !trigger.Force)
            {
                return result(RotationResult.Unchanged, "the values it consumes are the ones its tasks have", null);
            }

            if (!trigger.Force && !trigger.Manual && _failedFingerprints.TryGetValue(key, out var failed) && failed == fingerprint)
            {
                return result(RotationResult.Unchanged, "these values failed to roll out before; 'docker dso rotate' retries them", null);
            }

            if (policy.Strategy == "none")
            {
                return Finish(result(RotationResult.Skipped, "strategy none: the tasks keep the versions they have until the next stack deploy", null), trigger);
            }

            projects.Mark(managed.Name, service.Name, "rotating", $"Swarm update ({trigger.Trigger})");
            events.Publish("rotation.started", managed.Name, service.Name, $"Swarm update ({trigger.Trigger})");
            LogStarted(managed.Name, service.Name, policy.Strategy, trigger.Trigger);
            var tasks = new[] { SwarmNames.Service(managed.Name, service.Name) };
            try
            {
                var (succeeded, message) = await swarm.RollOutAsync(managed.Name, material, cancellationToken);
                timings["rollout"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
                if (!succeeded)
                {
                    _failedFingerprints[key] = fingerprint;
                    return Finish(result(RotationResult.Failed, message, tasks), trigger);
                }

                _failedFingerprints.TryRemove(key, out _);
                projects.Commit(managed.Name, service.Name, new ServiceState("ok", null, service.References.Count, fingerprint, null, time.GetUtcNow()));
                return Finish(result(RotationResult.Rotated, message, tasks), trigger);
            }
            catch (Exception e) when (e is DsoException or DockerApiException or HttpRequestException)
            {
                _failedFingerprints[key] = fingerprint;
                return Finish(result(RotationResult.Failed, $"{e.Message}; its tasks keep the versions they have", tasks), trigger);
            }
        }
    }

    private async Task<(string Outcome, string Message, IReadOnlyList<string> Containers)> ApplyAsync(
        string project, ServiceRegistration service, ServicePolicy policy, PreparedSecrets prepared, Dictionary<string, double> timings, CancellationToken cancellationToken)
    {
        switch (policy.Strategy)
        {
            case "none":
                return (RotationResult.Skipped, "strategy none: the agent's cache holds the new values; the containers keep theirs", []);
            case "live":
            case "signal":
                store.Materialize(project, service.Name, prepared.Files);
                projects.Commit(project, service.Name, Committed(project, service, prepared.Fingerprint));
                var note = EnvNote(service);
                if (policy.Strategy == "live")
                {
                    return (RotationResult.Rotated, "files rewritten in place" + note, []);
                }

                var signalled = new List<string>();
                foreach (var container in (await engine.OfServiceAsync(project, service.Name, cancellationToken)).Where(c => c.Running))
                {
                    await engine.SignalAsync(container.Id, policy.Signal, cancellationToken);
                    signalled.Add(container.Name);
                }

                return (RotationResult.Rotated, $"files rewritten in place, {policy.Signal} sent to {(signalled.Count == 0 ? "no running container" : string.Join(", ", signalled))}" + note, signalled);
            default:
                return await SwapAsync(project, service, policy, prepared, timings, cancellationToken);
        }
    }

    private async Task<(string Outcome, string Message, IReadOnlyList<string> Containers)> SwapAsync(
        string project, ServiceRegistration service, ServicePolicy policy, PreparedSecrets prepared, Dictionary<string, double> timings, CancellationToken cancellationToken)
    {
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

            projects.Commit(project, service.Name, Committed(project, service, prepared.Fingerprint));
            return (RotationResult.Rotated, "no container exists; the next one started gets the new values", []);
        }

        var (mode, why) = policy.Strategy == "rolling" ? RollingOrRestart(policy, containers) : (SwapPhases.Restart, null);
        var plan = new SwapPlan(project, service.Name, mode, policy, containers, oldGeneration, newGeneration, prepared.Fingerprint);
        var problem = await swap.RunAsync(plan, cancellationToken);
        foreach (var (step, seconds) in plan.Timings)
        {
            timings[step] = seconds;
        }

        var names = containers.Select(c => c.Name).ToList();
        if (problem is not null)
        {
            return (RotationResult.Failed, $"{problem}; the old container keeps serving", names);
        }

        projects.Commit(project, service.Name, Committed(project, service, prepared.Fingerprint));
        return (RotationResult.Rotated, mode == policy.Strategy ? $"{mode} swap done" : $"restart instead of rolling: {why}", names);
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

    private async Task<PreparedSecrets> PrepareAsync(string project, ServiceRegistration service, CancellationToken cancellationToken)
    {
        var references = ProjectRegistry.ReferencesOf(service);
        // What did not change since its version was last confirmed comes from the cache; only the rest is read.
        using var values = await ReferenceResolver.ResolveAsync(references, providers.Current, cancellationToken);
        var files = ServiceMaterial.Build(references, values, new ServiceOwner(service.Uid, service.Gid, null));
        _ = project;
        return new PreparedSecrets(files, fingerprints.Fingerprint(references, values));
    }

    private ServiceState Committed(string project, ServiceRegistration service, string fingerprint) =>
        new("ok", null, service.References.Count, fingerprint, store.MountPath(project, service.Name), time.GetUtcNow());

    private static string EnvNote(ServiceRegistration service)
    {
        var env = service.References.Where(r => r.Reference.StartsWith(Dso.Secrets.SecretReference.EnvScheme, StringComparison.Ordinal)).Select(r => r.Variable).ToList();
        return env.Count == 0 ? string.Empty : $"; environment values ({string.Join(", ", env)}) change when the container is recreated";
    }

    private RotationResult Finish(RotationResult result, RotationTrigger trigger)
    {
        book.Record(result);
        metrics.Rotations.WithLabels(result.Strategy, result.Outcome).Inc();
        metrics.RotationDuration.WithLabels(result.Strategy).Observe(result.DurationSeconds);
        projects.Mark(result.Project, result.Service, result.Outcome == RotationResult.Failed ? "rotation failed" : "ok", result.Outcome == RotationResult.Failed ? result.Message : null);
        events.Publish($"rotation.{result.Outcome}", result.Project, result.Service, $"{result.Strategy}: {result.Message} ({result.DurationSeconds:0.###}s)");
        audit.Write(
            trigger.Actor,
            "rotate",
            $"{result.Project}/{result.Service}",
            result.Outcome,
            $"{result.Strategy}, {trigger.Trigger}: {result.Message}",
            new AuditRotation(
                trigger.Variables is { Count: > 0 } variables ? string.Join(",", variables.Order(StringComparer.Ordinal)) : null,
                result.Containers.Count > 0 ? result.Containers[^1] : null,
                (long)Math.Round(result.DurationSeconds * 1000)));
        if (result.Outcome == RotationResult.Failed)
        {
            LogFailed(result.Project, result.Service, result.Strategy, result.Message);
        }
        else
        {
            LogFinished(result.Project, result.Service, result.Strategy, result.Outcome, result.DurationSeconds, result.Message);
        }

        notifier.Notify(result);
        return result;
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "rotating {Project}/{Service} ({Strategy}, {Trigger})")]
    private partial void LogStarted(string project, string service, string strategy, string trigger);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "rotation of {Project}/{Service} ({Strategy}): {Outcome} in {Seconds}s: {Message}")]
    private partial void LogFinished(string project, string service, string strategy, string outcome, double seconds, string message);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "rotation of {Project}/{Service} ({Strategy}) failed: {Message}")]
    private partial void LogFailed(string project, string service, string strategy, string message);
}
