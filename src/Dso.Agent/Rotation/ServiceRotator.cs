using System.Collections.Concurrent;
using System.Diagnostics;
using Docker.DotNet;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Agent.Swarm;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Swarm;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>
/// Rotates one service (spec 5): resolves its references fresh, and only when the fingerprint of
/// what it consumes differs from what its containers were given (G8) applies its strategy, an
/// <see cref="IRotationStrategy"/> found by name — `live` rewrites the files in place, `signal` also
/// signals the containers, `restart` and `rolling` swap them (<see cref="ContainerSwap"/>), `none`
/// leaves them; a Swarm stack's service is rolled through Swarm. The result goes to
/// <see cref="RotationResults"/>. The caller holds the project's lock.
/// </summary>
internal sealed class ServiceRotator(
    ProjectRegistry projects,
    AgentProviders providers,
    FingerprintKey fingerprints,
    RotationStrategies strategies,
    ServiceCommits commits,
    SwarmStacks swarm,
    RotationResults results,
    DsoMetrics metrics,
    TimeProvider time)
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
                commits.Commit(project, registration, prepared.Fingerprint);
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

            results.Started(project, service, policy.Strategy, $"{policy.Strategy} rotation", trigger);
            try
            {
                var (outcome, message, containers) = await strategies.Get(policy.Strategy).ApplyAsync(new StrategyContext(project, registration, policy, prepared, timings), cancellationToken);
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

            results.Started(managed.Name, service.Name, policy.Strategy, "Swarm update", trigger);
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

    private async Task<PreparedSecrets> PrepareAsync(string project, ServiceRegistration service, CancellationToken cancellationToken)
    {
        var references = RegistrationRules.ReferencesOf(service);
        // What did not change since its version was last confirmed comes from the cache; only the rest is read.
        using var values = await ReferenceResolver.ResolveAsync(references, providers.Current, cancellationToken);
        var files = ServiceMaterial.Build(references, values, new ServiceOwner(service.Uid, service.Gid, null));
        _ = project;
        return new PreparedSecrets(files, fingerprints.Fingerprint(references, values));
    }

    private RotationResult Finish(RotationResult result, RotationTrigger trigger) => results.Publish(result, trigger);
}
