using System.Collections.Concurrent;
using Dso.Agent.Events;
using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Proxy;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Agent.State;
using Dso.Injection.Planning;
using Dso.Injection.Secrets;
using Dso.Ipc;
using Dso.Launching;
using Dso.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Projects;

/// <summary>
/// The projects the agent manages. Registering binds the proxy's ports, resolves and writes a
/// project's secrets (fresh from the providers), then remembers it and the fingerprint each
/// service's containers get (its baseline) in the state directory; repairing rewrites the secrets of
/// any service whose files have vanished (a reboot, a wipe); removing wipes them and forgets it.
/// One project is worked on by one caller at a time (<see cref="ProjectLocks"/>): registrations,
/// repairs and rotations take turns. What a registration must be is <see cref="RegistrationRules"/>.
/// </summary>
internal sealed class ProjectRegistry(
    StateStore state,
    AgentProviders providers,
    SecretStore store,
    FingerprintKey fingerprints,
    TcpProxy proxy,
    SwapDrains drains,
    ProjectLocks locks,
    LiveConfig config,
    EventHub events,
    AuditLog audit,
    DsoMetrics metrics,
    TimeProvider time,
    SecretRedactor redactor,
    ILogger<ProjectRegistry> log)
{
    private readonly ConcurrentDictionary<string, ManagedProject> _projects = new(StringComparer.Ordinal);

    public string SecretsDirectory => store.Root;

    public IReadOnlyList<ManagedProject> Snapshot() => [.. _projects.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];

    public ManagedProject? TryGet(string name) => _projects.GetValueOrDefault(name);

    public ServicePolicy PolicyOf(ServiceRegistration service) => ServicePolicy.For(service, config.Current);

    /// <summary>
    /// The policy of a service of a registered project. A Swarm service rotates by Swarm's own
    /// rolling update (strategy `swarm`: its update_config decides order, parallelism and
    /// rollback); only `none` is honoured of the compose strategies, and the proxy takes no ports.
    /// </summary>
    /// <param name="project">The registered project.</param>
    /// <param name="service">One of its services.</param>
    /// <param name="changed">The variables whose secrets changed, when the rotation is for a change (per-secret strategies apply to them).</param>
    public ServicePolicy PolicyOf(ProjectRegistration project, ServiceRegistration service, IReadOnlySet<string>? changed = null)
    {
        var policy = ServicePolicy.For(service, config.Current, changed);
        return project.IsSwarm
            ? policy with { Strategy = policy.Strategy == "none" ? "none" : SwarmStrategy, ProxiedPorts = [] }
            : policy;
    }

    /// <summary>Held while a registration commits and while a reload of dso.yaml checks the projects and swaps its providers in.</summary>
    public Lock CommitGate { get; } = new();

    /// <summary>The strategy status and results show for a Swarm service.</summary>
    public const string SwarmStrategy = "swarm";

    /// <summary>Loads the registered projects and their baselines, and binds their proxy ports again.</summary>
    public void Load()
    {
        foreach (var registration in state.LoadProjects())
        {
            var baselines = state.LoadBaselines(registration.Name);
            if (registration.IsSwarm)
            {
                // Swarm keeps the versions and the tasks; nothing lives in the RAM directory.
                _projects[registration.Name] = new ManagedProject(registration, time.GetUtcNow(), registration.Services.ToDictionary(
                    s => s.Name,
                    s => ServiceState.Pending(s.References.Count) with { State = "ok", Fingerprint = baselines.GetValueOrDefault(s.Name) },
                    StringComparer.Ordinal));
                continue;
            }

            var services = registration.Services.ToDictionary(
                s => s.Name,
                s => ServiceState.Pending(s.References.Count) with
                {
                    State = File.Exists(Path.Combine(store.MountPath(registration.Name, s.Name), LauncherManifest.FileName)) ? "ok" : "pending",
                    Fingerprint = baselines.GetValueOrDefault(s.Name),
                    Directory = store.MountPath(registration.Name, s.Name),
                },
                StringComparer.Ordinal);
            try
            {
                proxy.Apply(registration.Name, ProxiedPorts(registration));
            }
            catch (DsoException e)
            {
                log.LogError("project {Project}: {Reason}", registration.Name, e.Message);
                services = services.ToDictionary(s => s.Key, s => s.Value with { State = "error", Message = e.Message }, StringComparer.Ordinal);
            }

            _projects[registration.Name] = new ManagedProject(registration, time.GetUtcNow(), services);
        }

        proxy.SyncKernelRules();
        UpdateGauges();
        log.LogInformation("loaded {Count} registered project(s) from {Directory}", _projects.Count, state.Directory);
    }

    public async Task<RegistrationResult> RegisterAsync(ProjectRegistration registration, string actor, CancellationToken cancellationToken)
    {
        RegistrationRules.Validate(registration);
        if (registration.IsSwarm)
        {
            throw new DsoException($"stack {registration.Name} is a Swarm stack: it registers through docker dso stack deploy (POST /v1/swarm/stacks)");
        }

        using var held = await locks.LockAsync(registration.Name, cancellationToken);

        // compose is about to run: it must not meet an old container of a rolling swap still draining
        // (same project, service and number labels) and converge by removing the wrong one. Those
        // finish now (compose recreates rotated containers anyway).
        await drains.HurryProjectAsync(registration.Name, cancellationToken);
        var previous = _projects.GetValueOrDefault(registration.Name);
        if (previous is { Registration.IsSwarm: true })
        {
            throw new DsoException($"the agent manages a Swarm stack named {registration.Name}; give the compose project another name (-p), or remove the stack with docker dso stack rm");
        }

        try
        {
            proxy.Apply(registration.Name, ProxiedPorts(registration));
            MaterializedStack materialized;
            try
            {
                materialized = await MaterializeAsync(registration, preferCache: false, "register", cancellationToken);
            }
            catch
            {
                proxy.Apply(registration.Name, previous is null ? new Dictionary<string, IReadOnlyList<PortRegistration>>() : ProxiedPorts(previous.Registration));
                throw;
            }

            lock (CommitGate)
            {
                // A reload of dso.yaml may have dropped a provider while this registration resolved
                // on the old set; it checked the projects it knew, which did not include this one.
                if (RegistrationRules.FirstMissingProvider(registration.Services, providers.Base.Names, providers.Base.DefaultName) is { } missing)
                {
                    if (previous is null)
                    {
                        store.RemoveProject(registration.Name);
                    }

                    throw new DsoException($"dso.yaml was reloaded while {registration.Name} registered, and {missing}; run 'docker dso up' again");
                }

                state.Save(registration);
                _projects[registration.Name] = Managed(registration, materialized);
            }

            SaveBaselines(registration.Name);
            UpdateGauges();
            audit.Write(actor, "register", registration.Name, "ok", $"{registration.Services.Count} service(s), {materialized.SecretCount} secret(s)");
            events.Publish("project.registered", registration.Name, null, $"{materialized.SecretCount} secret(s) delivered to {string.Join(", ", registration.Services.Select(s => s.Name))}");
            return new RegistrationResult(
                registration.Name,
                [.. registration.Services.Select(s =>
                {
                    var (directory, fingerprint) = materialized.Services[s.Name];
                    return new MaterializedService(s.Name, directory, fingerprint, PolicyOf(s).Strategy, proxy.PortsOf(registration.Name, s.Name));
                })],
                materialized.SecretCount,
                Warnings(registration));
        }
        catch (DsoException e)
        {
            log.LogWarning("registration of {Project} by {Actor} failed: {Reason}", registration.Name, actor, e.Message);
            audit.Write(actor, "register", registration.Name, "failed", e.Message);
            events.Publish("project.failed", registration.Name, null, e.Message);
            throw;
        }
    }

    /// <summary>
    /// Remembers a Swarm stack whose versions <see cref="Swarm.SwarmStacks"/> made (the caller
    /// holds its lock): its registration and each service's fingerprint as baseline.
    /// </summary>
    public void AdoptSwarm(ProjectRegistration registration, IReadOnlyDictionary<string, string> fingerprintsByService, string actor, int created)
    {
        var now = time.GetUtcNow();
        var registeredAt = _projects.GetValueOrDefault(registration.Name)?.RegisteredAt ?? now;
        state.Save(registration);
        _projects[registration.Name] = new ManagedProject(registration, registeredAt, registration.Services.ToDictionary(
            s => s.Name,
            s => new ServiceState("ok", null, s.References.Count, fingerprintsByService[s.Name], null, now),
            StringComparer.Ordinal));
        SaveBaselines(registration.Name);
        UpdateGauges();
        audit.Write(actor, "register", registration.Name, "ok", $"Swarm stack, {registration.Services.Count} service(s), {created} new secret version(s)");
        events.Publish("project.registered", registration.Name, null, $"Swarm stack: secret versions ready for {string.Join(", ", registration.Services.Select(s => s.Name))} ({created} new)");
    }

    /// <summary>Forgets a project and wipes its secrets; <paramref name="kind"/> (when given) must be what it was registered as.</summary>
    public async Task<bool> RemoveAsync(string name, string actor, CancellationToken cancellationToken, string? kind = null)
    {
        using var held = await locks.LockAsync(name, cancellationToken);
        if (kind is not null && _projects.TryGetValue(name, out var registered) && (registered.Registration.IsSwarm ? ProjectRegistration.SwarmKind : ProjectRegistration.ComposeKind) != kind)
        {
            throw new DsoException(registered.Registration.IsSwarm
                ? $"{name} is a Swarm stack, not a compose project; remove it with docker dso stack rm {name}"
                : $"{name} is a compose project, not a Swarm stack; remove it with docker dso down -p {name}");
        }

        // Its draining old containers finish now, before the secrets they (and their cleanup) use are wiped.
        await drains.HurryProjectAsync(name, cancellationToken);
        var known = _projects.TryRemove(name, out _);
        proxy.Remove(name);
        var wiped = store.RemoveProject(name);
        if (known)
        {
            state.Remove(name);
        }

        UpdateGauges();
        if (known || wiped)
        {
            audit.Write(actor, "remove", name, "ok");
            events.Publish("project.removed", name, null, "secrets wiped; no longer managed");
        }

        return known || wiped;
    }

    /// <summary>Rewrites the secrets of every service whose files are gone; returns how many services were repaired.</summary>
    public async Task<int> RepairMissingAsync(string trigger, CancellationToken cancellationToken)
    {
        var repaired = 0;
        foreach (var project in Snapshot().Where(p => !p.Registration.IsSwarm))
        {
            var missing = project.Registration.Services.Where(s => !File.Exists(Path.Combine(store.MountPath(project.Name, s.Name), LauncherManifest.FileName))).ToList();
            if (missing.Count == 0)
            {
                continue;
            }

            using var held = await locks.LockAsync(project.Name, cancellationToken);
            if (!_projects.TryGetValue(project.Name, out var current))
            {
                continue;
            }

            try
            {
                var materialized = await MaterializeAsync(current.Registration, preferCache: true, trigger, cancellationToken);
                _projects[project.Name] = Managed(current.Registration, materialized, current.RegisteredAt);
                SaveBaselines(project.Name);
                repaired += missing.Count;
                metrics.Repairs.Inc(missing.Count);
                audit.Write("agent", "repair", project.Name, "ok", $"{trigger}: restored {string.Join(", ", missing.Select(s => s.Name))}");
                events.Publish("project.repaired", project.Name, null, $"restored the secrets of {string.Join(", ", missing.Select(s => s.Name))} ({trigger})");
                log.LogInformation("restored the secrets of {Project}: {Services} ({Trigger})", project.Name, string.Join(", ", missing.Select(s => s.Name)), trigger);
            }
            catch (DsoException e)
            {
                _projects[project.Name] = current with
                {
                    Services = current.Services.ToDictionary(s => s.Key, s => s.Value with { State = "error", Message = redactor.Redact(e.Message) }, StringComparer.Ordinal),
                };
                audit.Write("agent", "repair", project.Name, "failed", e.Message);
                events.Publish("project.failed", project.Name, null, e.Message);
                log.LogWarning("cannot restore the secrets of {Project}: {Reason}", project.Name, e.Message);
            }
        }

        return repaired;
    }

    /// <summary>Records what a service's containers now run on (after a rotation) and persists it as its baseline.</summary>
    public void Commit(string project, string service, ServiceState serviceState)
    {
        if (_projects.TryGetValue(project, out var current) && current.Services.ContainsKey(service))
        {
            var services = new Dictionary<string, ServiceState>(current.Services, StringComparer.Ordinal) { [service] = serviceState };
            _projects[project] = current with { Services = services };
            SaveBaselines(project);
        }
    }

    /// <summary>Changes what status shows for a service without touching its baseline.</summary>
    public void Mark(string project, string service, string serviceState, string? message)
    {
        if (_projects.TryGetValue(project, out var current) && current.Services.TryGetValue(service, out var existing))
        {
            var services = new Dictionary<string, ServiceState>(current.Services, StringComparer.Ordinal)
            {
                [service] = existing with { State = serviceState, Message = message is null ? null : redactor.Redact(message) },
            };
            _projects[project] = current with { Services = services };
        }
    }

    private async Task<MaterializedStack> MaterializeAsync(ProjectRegistration registration, bool preferCache, string trigger, CancellationToken cancellationToken)
    {
        var services = registration.Services.Select(service => (service.Name, RegistrationRules.ReferencesOf(service), new ServiceOwner(service.Uid, service.Gid, null))).ToList();
        var materializer = new LocalMaterializer(preferCache ? providers.Cached : providers.Fresh, store, fingerprints);
        try
        {
            var result = await materializer.MaterializeAsync(registration.Name, services, cancellationToken);
            metrics.Materializations.WithLabels(trigger, "ok").Inc();
            return result;
        }
        catch (DsoException)
        {
            metrics.Materializations.WithLabels(trigger, "failed").Inc();
            throw;
        }
    }

    private ManagedProject Managed(ProjectRegistration registration, MaterializedStack materialized, DateTimeOffset? registeredAt = null)
    {
        var now = time.GetUtcNow();
        return new ManagedProject(
            registration,
            registeredAt ?? now,
            registration.Services.ToDictionary(
                s => s.Name,
                s => new ServiceState("ok", null, s.References.Count, materialized.Services[s.Name].Fingerprint, materialized.Services[s.Name].Directory, now),
                StringComparer.Ordinal));
    }

    private void SaveBaselines(string project)
    {
        if (_projects.TryGetValue(project, out var current))
        {
            state.SaveBaselines(project, current.Services.Where(s => s.Value.Fingerprint is not null).ToDictionary(s => s.Key, s => s.Value.Fingerprint!, StringComparer.Ordinal));
        }
    }

    private Dictionary<string, IReadOnlyList<PortRegistration>> ProxiedPorts(ProjectRegistration registration) =>
        registration.Services.ToDictionary(s => s.Name, s => PolicyOf(s).ProxiedPorts, StringComparer.Ordinal);

    private List<string> Warnings(ProjectRegistration registration)
    {
        var warnings = new List<string>();
        foreach (var service in registration.Services)
        {
            var policy = PolicyOf(service);
            // Each env reference by the strategy a change of its own secret gets (a dso.yaml secrets[] entry may set one).
            foreach (var group in service.References.Where(r => r.Reference.StartsWith(SecretReference.EnvScheme, StringComparison.Ordinal))
                .GroupBy(r => ServicePolicy.For(service, config.Current, new HashSet<string>(StringComparer.Ordinal) { r.Variable }).Strategy)
                .Where(g => g.Key is "live" or "signal"))
            {
                warnings.Add($"service {service.Name}: strategy {group.Key} cannot change environment values in a running process ({string.Join(", ", group.Select(r => r.Variable))}); they change when the container is recreated. Use dsofile:// references, or strategy restart or rolling");
            }

            var labelPorts = service.Rotation?.Ports.Where(p => p.Source == PortRegistration.FromCompose).ToList() ?? [];
            if (policy.Strategy != "rolling" && labelPorts.Count > 0 && policy.Replaces)
            {
                warnings.Add($"service {service.Name}: its published ports ({string.Join(", ", labelPorts)}) stay with its container, so a {policy.Strategy} rotation interrupts them; rolling moves them to the agent's proxy");
            }
        }

        return warnings;
    }

    private void UpdateGauges()
    {
        metrics.ManagedProjects.Set(_projects.Count);
        metrics.ManagedServices.Set(_projects.Values.Sum(p => p.Registration.Services.Count));
    }
}
