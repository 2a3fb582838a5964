using System.Collections.Concurrent;
using Dso.Agent.Events;
using Dso.Agent.Observability;
using Dso.Agent.Secrets;
using Dso.Agent.State;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Ipc;
using Dso.Launching;
using Dso.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Projects;

/// <summary>
/// The projects the agent manages. Registering resolves and writes a project's secrets (fresh from
/// the providers), then remembers it in the state directory; repairing rewrites the secrets of any
/// service whose files have vanished (a reboot, a wipe); removing wipes them and forgets it.
/// One project is worked on by one caller at a time.
/// </summary>
internal sealed class ProjectRegistry(
    StateStore state,
    AgentProviders providers,
    SecretStore store,
    FingerprintKey fingerprints,
    EventHub events,
    AuditLog audit,
    DsoMetrics metrics,
    TimeProvider time,
    SecretRedactor redactor,
    ILogger<ProjectRegistry> log)
{
    private readonly ConcurrentDictionary<string, ManagedProject> _projects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public string SecretsDirectory => store.Root;

    public IReadOnlyList<ManagedProject> Snapshot() => [.. _projects.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];

    public void Load()
    {
        foreach (var registration in state.LoadProjects())
        {
            _projects[registration.Name] = new ManagedProject(registration, time.GetUtcNow(), registration.Services.ToDictionary(s => s.Name, s => ServiceState.Pending(s.References.Count), StringComparer.Ordinal));
        }

        UpdateGauges();
        log.LogInformation("loaded {Count} registered project(s) from {Directory}", _projects.Count, state.Directory);
    }

    public async Task<RegistrationResult> RegisterAsync(ProjectRegistration registration, string actor, CancellationToken cancellationToken)
    {
        Validate(registration);
        using var held = await LockAsync(registration.Name, cancellationToken);
        try
        {
            var materialized = await MaterializeAsync(registration, preferCache: false, "register", cancellationToken);
            state.Save(registration);
            _projects[registration.Name] = Managed(registration, materialized);
            UpdateGauges();
            audit.Write(actor, "register", registration.Name, "ok", $"{registration.Services.Count} service(s), {materialized.SecretCount} secret(s)");
            events.Publish("project.registered", registration.Name, null, $"{materialized.SecretCount} secret(s) delivered to {string.Join(", ", registration.Services.Select(s => s.Name))}");
            return new RegistrationResult(
                registration.Name,
                [.. materialized.Services.Select(s => new MaterializedService(s.Key, s.Value.Directory, s.Value.Fingerprint))],
                materialized.SecretCount);
        }
        catch (DsoException e)
        {
            log.LogWarning("registration of {Project} by {Actor} failed: {Reason}", registration.Name, actor, e.Message);
            audit.Write(actor, "register", registration.Name, "failed", e.Message);
            events.Publish("project.failed", registration.Name, null, e.Message);
            throw;
        }
    }

    public async Task<bool> RemoveAsync(string name, string actor, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(name, cancellationToken);
        var known = _projects.TryRemove(name, out _);
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
        foreach (var project in Snapshot())
        {
            var missing = project.Registration.Services.Where(s => !File.Exists(Path.Combine(store.MountPath(project.Name, s.Name), LauncherManifest.FileName))).ToList();
            if (missing.Count == 0)
            {
                continue;
            }

            using var held = await LockAsync(project.Name, cancellationToken);
            if (!_projects.TryGetValue(project.Name, out var current))
            {
                continue;
            }

            try
            {
                var materialized = await MaterializeAsync(current.Registration, preferCache: true, trigger, cancellationToken);
                _projects[project.Name] = Managed(current.Registration, materialized, current.RegisteredAt);
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

    /// <summary>Resolves again, fresh from the providers, the projects <paramref name="select"/> picks, and rewrites their files.</summary>
    public async Task<int> RefreshAsync(Func<ManagedProject, bool> select, string trigger, string actor, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var project in Snapshot().Where(select))
        {
            using var held = await LockAsync(project.Name, cancellationToken);
            if (!_projects.TryGetValue(project.Name, out var current))
            {
                continue;
            }

            try
            {
                var materialized = await MaterializeAsync(current.Registration, preferCache: false, trigger, cancellationToken);
                _projects[project.Name] = Managed(current.Registration, materialized, current.RegisteredAt);
                audit.Write(actor, "refresh", project.Name, "ok", trigger);
                events.Publish("project.refreshed", project.Name, null, $"secrets resolved again ({trigger})");
                count++;
            }
            catch (DsoException e)
            {
                audit.Write(actor, "refresh", project.Name, "failed", e.Message);
                events.Publish("project.failed", project.Name, null, e.Message);
            }
        }

        return count;
    }

    private async Task<MaterializedStack> MaterializeAsync(ProjectRegistration registration, bool preferCache, string trigger, CancellationToken cancellationToken)
    {
        var services = registration.Services.Select(service => (
            service.Name,
            (IReadOnlyList<ServiceReference>)[.. service.References.Select(r => new ServiceReference(service.Name, r.Variable, r.Reference, SecretReference.Parse(r.Reference), r.Where))],
            new ServiceOwner(service.Uid, service.Gid, null))).ToList();
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

    private static void Validate(ProjectRegistration registration)
    {
        // Names become paths (state file, RAM directory): only compose's own name characters.
        if (!ValidName(registration.Name, allowUpper: false))
        {
            throw new DsoException($"'{registration.Name}' is not a compose project name (lowercase letters, digits, '_' and '-')");
        }

        if (registration.Services.FirstOrDefault(s => !ValidName(s.Name, allowUpper: true)) is { } badService)
        {
            throw new DsoException($"'{badService.Name}' is not a compose service name (letters, digits, '_', '.' and '-')");
        }

        if (registration.Services.Count == 0)
        {
            throw new DsoException($"project {registration.Name} registers no services");
        }

        foreach (var service in registration.Services)
        {
            if (service.Uid < 0 || service.Gid < 0)
            {
                throw new DsoException($"service {service.Name}: uid and gid must not be negative");
            }

            foreach (var reference in service.References)
            {
                if (!SecretReference.TryParse(reference.Reference, out _, out var problem))
                {
                    throw new DsoException($"{reference.Where}: service {service.Name}, {reference.Variable}: invalid reference '{reference.Reference}': {problem}");
                }
            }
        }
    }

    private static bool ValidName(string name, bool allowUpper) =>
        name.Length is > 0 and <= 128 && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || (allowUpper && char.IsAsciiLetterUpper(c)) || c is '_' or '-' || (allowUpper && c == '.'));

    private void UpdateGauges()
    {
        metrics.ManagedProjects.Set(_projects.Count);
        metrics.ManagedServices.Set(_projects.Values.Sum(p => p.Registration.Services.Count));
    }

    private async Task<IDisposable> LockAsync(string project, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(project, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
