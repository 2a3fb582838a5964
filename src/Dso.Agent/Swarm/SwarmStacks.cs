using System.Globalization;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Swarm;
using Dso.Ipc;

namespace Dso.Agent.Swarm;

/// <summary>
/// The agent's side of Swarm (spec 10). `stack deploy` hands a stack to it (POST /v1/swarm/stacks):
/// it resolves the references with its own providers, creates the secret versions that are
/// missing, remembers the stack like a compose project, and answers with the mounts the deploy
/// needs (never a value). On a change the rotator calls <see cref="RollOutAsync"/>: new versions,
/// the service's spec swapped to them (Swarm rolls the tasks with the stack's update_config), a wait
/// for Swarm's verdict, then the versions no task uses are removed.
/// </summary>
internal sealed class SwarmStacks(ProjectRegistry projects, ProjectLocks locks, AgentProviders providers, FingerprintKey fingerprints, SwarmEngine engine, Hosting.AgentOptions options, DriverVersions versions)
{
    /// <summary>
    /// The secret driver new versions are made for (their values stay with this agent), or null:
    /// values stored in Swarm — when the driver is off, or the swarm has several managers (the
    /// leader asks its own driver, and another manager's agent does not know this agent's stacks).
    /// </summary>
    private async Task<(string? Driver, string? Warning)> DriverAsync(CancellationToken cancellationToken)
    {
        if (options.SecretDriverName is not { } driver)
        {
            return (null, null);
        }

        var managers = await engine.ManagersAsync(cancellationToken);
        return managers > 1
            ? (null, $"the swarm has {managers} managers: Swarm asks the secret driver on whichever manager leads, and only this agent knows this stack, so its versions hold their values in Swarm (versioned secrets) instead of asking driver {driver}")
            : (driver, null);
    }

    /// <summary>How long a rollout waits for Swarm to converge or roll back (as `stack deploy --timeout` by default).</summary>
    public static readonly TimeSpan ConvergeTimeout = TimeSpan.FromMinutes(5);

    public async Task<SwarmDeployResult> DeployAsync(ProjectRegistration registration, string actor, CancellationToken cancellationToken)
    {
        if (!registration.IsSwarm)
        {
            throw new DsoException($"stack {registration.Name}: the registration's kind must be '{ProjectRegistration.SwarmKind}'");
        }

        if (registration.Name.Length > SwarmNames.MaxStackLength)
        {
            throw new DsoException($"stack {registration.Name}: at most {SwarmNames.MaxStackLength} characters, so secret version names stay within Swarm's 64");
        }

        RegistrationRules.Validate(registration);
        await engine.RequireManagerAsync(cancellationToken);
        using var held = await locks.LockAsync(registration.Name, cancellationToken);
        if (projects.TryGet(registration.Name) is { Registration.IsSwarm: false })
        {
            throw new DsoException($"the agent manages a compose project named {registration.Name} on this host; give the stack another name");
        }

        using var material = await MaterialAsync(registration.Name, registration.Services, providers.Fresh, cancellationToken);
        var (driver, warning) = await DriverAsync(cancellationToken);
        var created = await CreateAsync(registration.Name, material, driver, cancellationToken);
        projects.AdoptSwarm(registration, material.Services.ToDictionary(s => s.Service, s => s.Fingerprint, StringComparer.Ordinal), actor, created);
        return new SwarmDeployResult(
            registration.Name,
            [.. material.Services.Select(s => new SwarmServiceResult(s.Service, [.. s.Mounts.Select(Wire)], s.Fingerprint))],
            material.Secrets.Count,
            created,
            warning is null ? null : [warning],
            driver);
    }

    /// <summary>Resolves a service's references (cache where confirmed) and the fingerprint of what it consumes.</summary>
    public async Task<SwarmMaterial> PrepareAsync(string stack, ServiceRegistration service, CancellationToken cancellationToken) =>
        await MaterialAsync(stack, [service], providers.Current, cancellationToken);

    /// <summary>Rolls a service onto the versions of <paramref name="material"/>: (succeeded, what happened).</summary>
    public async Task<(bool Succeeded, string Message)> RollOutAsync(string stack, SwarmMaterial material, CancellationToken cancellationToken)
    {
        var secrets = material.Services.Single();
        var name = SwarmNames.Service(stack, secrets.Service);
        var (driver, _) = await DriverAsync(cancellationToken);
        var created = await CreateAsync(stack, material, driver, cancellationToken);
        var updated = await engine.UpdateSecretsAsync(name, secrets.Mounts, secrets.Fingerprint, cancellationToken);
        var wanted = secrets.Mounts.Select(m => m.SecretName).ToHashSet(StringComparer.Ordinal);
        var outcome = (await engine.WaitAsync([(name, wanted, updated)], ConvergeTimeout, cancellationToken)).Single();
        var pruned = await engine.PruneAsync(stack, cancellationToken);
        versions.Forget(stack, [.. await engine.StackSecretsAsync(stack, cancellationToken)]);

        var summary = $"{created} new secret version{(created == 1 ? string.Empty : "s")}, {pruned.Count} old one{(pruned.Count == 1 ? string.Empty : "s")} removed";
        return outcome.Succeeded
            ? (true, $"Swarm updated {name}: {outcome.Detail}; {summary}")
            : (false, $"{name}: {outcome.Detail}; {summary}");
    }

    /// <summary>What Swarm says of each service of the stack (for status); an engine that does not answer is said per service.</summary>
    public async Task<IReadOnlyDictionary<string, SwarmServiceStatus>> StatusAsync(ManagedProject stack, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, SwarmServiceStatus>(StringComparer.Ordinal);
        foreach (var service in stack.Registration.Services)
        {
            var name = SwarmNames.Service(stack.Name, service.Name);
            try
            {
                result[service.Name] = await engine.StatusAsync(name, cancellationToken);
            }
            catch (Exception e) when (e is DsoException or HttpRequestException or global::Docker.DotNet.DockerApiException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                result[service.Name] = new SwarmServiceStatus(name, [], 0, 0, null, null, DsoException.OneLine(e.Message));
            }
        }

        return result;
    }

    /// <summary>
    /// Creates the versions Swarm lacks. With the secret driver on, the agent keeps their values
    /// (before Swarm may ask for them) and Swarm gets names and labels only.
    /// </summary>
    private async Task<int> CreateAsync(string stack, SwarmMaterial material, string? driver, CancellationToken cancellationToken)
    {
        if (driver is null)
        {
            return await engine.EnsureSecretsAsync(material.Secrets, cancellationToken);
        }

        versions.Keep(stack, material.Secrets);
        var created = await engine.EnsureSecretsAsync(material.Secrets, cancellationToken, driver);
        // Versions removed from Swarm since (by stack deploy's prune, or by hand) are forgotten here too.
        versions.Forget(stack, [.. await engine.StackSecretsAsync(stack, cancellationToken)]);
        return created;
    }

    private async Task<SwarmMaterial> MaterialAsync(string stack, IReadOnlyList<ServiceRegistration> services, Dso.Providers.ProviderRegistry registry, CancellationToken cancellationToken)
    {
        var references = services.Select(s => (s.Name, RegistrationRules.ReferencesOf(s), new ServiceOwner(s.Uid, s.Gid, null))).ToList();
        using var values = await ReferenceResolver.ResolveAsync(references.SelectMany(r => r.Item2), registry, cancellationToken);
        return SwarmMaterial.Build(stack, references, values, fingerprints);
    }

    private static SwarmMountResult Wire(SwarmSecretMount mount) =>
        new(mount.SecretName, mount.Target, mount.Uid, mount.Gid, "0" + Convert.ToString((int)mount.Mode, 8).ToString(CultureInfo.InvariantCulture));
}
