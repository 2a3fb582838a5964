using System.Collections.Concurrent;
using System.Diagnostics;
using Docker.DotNet;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Agent.Swarm;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>
/// Rotates one service (spec 5): resolves its references fresh, and only when the fingerprint of
/// what it consumes differs from what its containers were given (G8) applies its strategy, an
/// <see cref="IRotationStrategy"/> found by name — `live` rewrites the files in place, `signal` also
/// signals the containers, `restart` and `rolling` swap them (<see cref="ContainerSwap"/>), `swarm`
/// rolls a stack's service through Swarm with new secret versions, `none` leaves them. The
/// baseline and retry rules are the same for every strategy. The result goes to
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

        var swarmStack = managed.Registration.IsSwarm;
        var keeps = swarmStack ? "its tasks keep the versions they have" : "its containers keep the values they have";
        IPreparedValues prepared;
        try
        {
            prepared = swarmStack
                ? new PreparedVersions(await swarm.PrepareAsync(project, registration, cancellationToken))
                : await PrepareAsync(project, registration, cancellationToken);
            timings["resolve"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        }
        catch (DsoException e)
        {
            return Finish(Result(RotationResult.Failed, $"cannot resolve its secrets ({e.Message}); {keeps}"), trigger);
        }

        using (prepared)
        {
            var baseline = managed.Services.GetValueOrDefault(service)?.Fingerprint;
            if (baseline is null && !swarmStack)
            {
                // Registered by an agent that kept no baseline: adopt what the providers hold now rather than rotate on a guess.
                commits.Commit(project, registration, prepared.Fingerprint);
                return Result(RotationResult.Unchanged, "no baseline was recorded; the current values were adopted as it");
            }

            if (prepared.Fingerprint == baseline && !trigger.Force)
            {
                return Result(RotationResult.Unchanged, $"the values it consumes are the ones its {(swarmStack ? "tasks" : "containers")} have");
            }

            if (!trigger.Force && !trigger.Manual && _failedFingerprints.TryGetValue((project, service), out var failed) && failed == prepared.Fingerprint)
            {
                return Result(RotationResult.Unchanged, "these values failed to roll out before; 'docker dso rotate' retries them");
            }

            if (strategies.Find(policy.Strategy) is not { } strategy)
            {
                _failedFingerprints[(project, service)] = prepared.Fingerprint;
                return Finish(Result(RotationResult.Failed, $"the agent has no rotation strategy '{policy.Strategy}' (it has {string.Join(", ", strategies.Names)}); {keeps}"), trigger);
            }

            var context = new StrategyContext(project, registration, policy, prepared, timings, () => Math.Round(clock.Elapsed.TotalSeconds, 4));
            if (swarmStack && strategy is NoneStrategy)
            {
                // A Swarm service left alone is no rotation under way.
                return Finish(Result(RotationResult.Skipped, (await strategy.ApplyAsync(context, cancellationToken)).Message), trigger);
            }

            results.Started(project, service, policy.Strategy, swarmStack ? "Swarm update" : $"{policy.Strategy} rotation", trigger);
            try
            {
                var (outcome, message, containers) = await strategy.ApplyAsync(context, cancellationToken);
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
                return Finish(Result(RotationResult.Failed, $"{e.Message}; {keeps}", swarmStack ? [Dso.Injection.Swarm.SwarmNames.Service(project, service)] : null), trigger);
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
