using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Dso.Injection.Engine;

namespace Dso.Injection.Swarm;

/// <summary>What became of one service after a deploy or rotation.</summary>
internal sealed record SwarmOutcome(string Service, bool Succeeded, string Detail);

/// <summary>
/// The Swarm side of the Engine API (Docker.DotNet): is this engine a manager, create the secret
/// versions that are missing, wait until a service's tasks run on the versions it was given (or
/// Swarm rolled it back), and remove DSO's versions no service and no running task uses.
/// </summary>
internal sealed class SwarmEngine(EngineEndpoint endpoint) : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(300);
    private readonly DockerClient _client = new DockerClientBuilder().WithEndpoint(new Uri(endpoint.Host)).Build();

    public async Task RequireManagerAsync(CancellationToken cancellationToken)
    {
        var info = await Reach(() => _client.System.GetSystemInfoAsync(cancellationToken));
        var state = info.Swarm?.LocalNodeState;
        if (state != "active")
        {
            throw new DsoException($"the engine at {endpoint.Host} is not in a swarm (state: {(string.IsNullOrEmpty(state) ? "inactive" : state)}); run 'docker swarm init' there, or point DOCKER_HOST at a swarm manager");
        }

        if (info.Swarm?.ControlAvailable != true)
        {
            throw new DsoException($"the engine at {endpoint.Host} is a swarm worker; deploy from a manager (docker node ls shows them), or point DOCKER_HOST at one");
        }
    }

    /// <summary>How many managers the swarm has (Swarm's leader, one of them, dispatches the tasks).</summary>
    public async Task<long> ManagersAsync(CancellationToken cancellationToken) =>
        Convert.ToInt64((await Reach(() => _client.System.GetSystemInfoAsync(cancellationToken))).Swarm?.Managers ?? 0, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The secret specs of the named service as it runs now, or null when there is no such service.</summary>
    public async Task<IReadOnlySet<string>?> ServiceSecretsAsync(string service, CancellationToken cancellationToken)
    {
        var found = await FindServiceAsync(service, cancellationToken);
        return found is null ? null : SecretNames(found.Spec);
    }

    /// <summary>
    /// Creates the versions Swarm does not have yet; returns how many it created. With a
    /// <paramref name="driver"/>, a version is the name and labels only: Swarm asks that secret
    /// driver for the value when it starts a task, and stores none.
    /// </summary>
    public async Task<int> EnsureSecretsAsync(IReadOnlyList<SwarmSecret> secrets, CancellationToken cancellationToken, string? driver = null)
    {
        var existing = (await Reach(() => _client.Secrets.ListAsync(cancellationToken))).Select(s => s.Spec?.Name ?? string.Empty).ToHashSet(StringComparer.Ordinal);
        var created = 0;
        foreach (var secret in secrets.Where(s => !existing.Contains(s.Name)))
        {
            try
            {
                await _client.Secrets.CreateAsync(driver is null
                    ? new SwarmSecretSpec { Name = secret.Name, Labels = new Dictionary<string, string>(secret.Labels), Data = secret.Data }
                    : new SwarmSecretSpec { Name = secret.Name, Labels = new Dictionary<string, string>(secret.Labels), Driver = new SwarmDriver { Name = driver } }, cancellationToken);
                created++;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                // Made meanwhile by another deploy of the same value: the same name holds the same bytes.
            }
            catch (DockerApiException e)
            {
                throw new DsoException($"Swarm refused to create secret {secret.Name}: {ApiMessage(e)}");
            }
        }

        return created;
    }

    /// <summary>
    /// Waits until each service's tasks run on the secret versions it was given: a new service when
    /// its desired tasks run them; an updated one when Swarm also reports its update completed.
    /// Swarm's rollback or a paused update is a failure; so is the timeout.
    /// </summary>
    public async Task<IReadOnlyList<SwarmOutcome>> WaitAsync(IReadOnlyList<(string Service, IReadOnlySet<string> Secrets, bool Updated)> services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var outcomes = new Dictionary<string, SwarmOutcome>(StringComparer.Ordinal);
        while (true)
        {
            foreach (var (service, secrets, updated) in services.Where(s => !outcomes.ContainsKey(s.Service)))
            {
                if (await CheckAsync(service, secrets, updated, cancellationToken) is { } outcome)
                {
                    outcomes[service] = outcome;
                }
            }

            if (outcomes.Count == services.Count)
            {
                return [.. services.Select(s => outcomes[s.Service])];
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return [.. services.Select(s => outcomes.GetValueOrDefault(s.Service)
                    ?? new SwarmOutcome(s.Service, false, $"not converged within {timeout.TotalSeconds:0} s; 'docker service ps {s.Service}' shows why"))];
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Swaps the service's DSO secrets (those mounted under /run/secrets/dso) for
    /// <paramref name="mounts"/> in its spec and sets its fingerprint label; Swarm then rolls its
    /// tasks with the service's own update_config. Returns false when the spec already mounts
    /// exactly these versions (nothing to do).
    /// </summary>
    public async Task<bool> UpdateSecretsAsync(string name, IReadOnlyList<SwarmSecretMount> mounts, string fingerprint, CancellationToken cancellationToken)
    {
        var service = await FindServiceAsync(name, cancellationToken)
            ?? throw new DsoException($"service {name} is not in the swarm (removed with docker stack rm?); deploy the stack again with docker dso stack deploy");
        var spec = service.Spec ?? throw new DsoException($"service {name} has no spec in the engine's answer");
        var container = spec.TaskTemplate?.ContainerSpec ?? throw new DsoException($"service {name} is not a container service");
        var kept = (container.Secrets ?? []).Where(s => !IsDso(s)).ToList();
        var current = (container.Secrets ?? []).Where(IsDso).Select(s => s.SecretName).ToHashSet(StringComparer.Ordinal);
        if (current.SetEquals(mounts.Select(m => m.SecretName)))
        {
            return false;
        }

        var ids = (await Reach(() => _client.Secrets.ListAsync(cancellationToken))).ToDictionary(s => s.Spec?.Name ?? string.Empty, s => s.ID, StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            kept.Add(new SecretReference
            {
                SecretName = mount.SecretName,
                SecretID = ids.TryGetValue(mount.SecretName, out var id) ? id : throw new DsoException($"secret {mount.SecretName} is not in the swarm; it was removed meanwhile"),
                File = new SecretReferenceFileTarget { Name = mount.Target, UID = mount.Uid, GID = mount.Gid, Mode = (uint)mount.Mode },
            });
        }

        container.Secrets = kept;
        spec.Labels ??= new Dictionary<string, string>();
        spec.Labels[SwarmNames.FingerprintLabel] = fingerprint;
        try
        {
            await _client.Swarm.UpdateServiceAsync(service.ID, new ServiceUpdateParameters { Service = spec, Version = (long)(service.Version?.Index ?? 0) }, cancellationToken);
        }
        catch (DockerApiException e)
        {
            throw new DsoException($"Swarm refused the update of service {name}: {ApiMessage(e)}");
        }

        return true;
    }

    /// <summary>What Swarm says of a service now: the DSO versions its spec mounts, its tasks, its last update.</summary>
    public async Task<Dso.Ipc.SwarmServiceStatus> StatusAsync(string name, CancellationToken cancellationToken)
    {
        var service = await FindServiceAsync(name, cancellationToken);
        if (service is null)
        {
            return new Dso.Ipc.SwarmServiceStatus(name, [], 0, 0, null, null, "not in the swarm");
        }

        var tasks = await _client.Tasks.ListAsync(new TasksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["service"] = new Dictionary<string, bool> { [service.ID] = true },
                ["desired-state"] = new Dictionary<string, bool> { ["running"] = true },
            },
        }, cancellationToken);
        var desired = service.Spec?.Mode?.Replicated?.Replicas is { } replicas ? (int)replicas : tasks.Count;
        return new Dso.Ipc.SwarmServiceStatus(
            name,
            [.. (service.Spec?.TaskTemplate?.ContainerSpec?.Secrets ?? []).Where(IsDso).Select(s => s.SecretName).Order(StringComparer.Ordinal)],
            tasks.Count(t => t.Status?.State == TaskState.Running),
            desired,
            service.UpdateStatus?.State,
            service.UpdateStatus?.Message is { Length: > 0 } message ? DsoException.OneLine(message) : null);
    }

    /// <summary>Removes the stack's secret versions that no service spec and no running task uses; returns their names.</summary>
    public async Task<IReadOnlyList<string>> PruneAsync(string stack, CancellationToken cancellationToken)
    {
        var ours = await OursAsync(stack, cancellationToken);
        if (ours.Count == 0)
        {
            return [];
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in await _client.Swarm.ListServicesAsync(new ServiceListParameters(), cancellationToken))
        {
            used.UnionWith(SecretIds(service.Spec));
        }

        var tasks = await _client.Tasks.ListAsync(new TasksListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["desired-state"] = new Dictionary<string, bool> { ["running"] = true } } }, cancellationToken);
        foreach (var task in tasks.Where(t => t.Status?.State is TaskState.Running or TaskState.Starting or TaskState.Preparing or TaskState.Ready))
        {
            used.UnionWith(task.Spec?.ContainerSpec?.Secrets?.Select(s => s.SecretID) ?? []);
        }

        var removed = new List<string>();
        foreach (var secret in ours.Where(s => !used.Contains(s.ID)))
        {
            try
            {
                await _client.Secrets.DeleteAsync(secret.ID, cancellationToken);
                removed.Add(secret.Spec?.Name ?? secret.ID);
            }
            catch (DockerApiException)
            {
                // In use after all (a service made meanwhile): the next deploy or rotation prunes it.
            }
        }

        return removed;
    }

    /// <summary>The names of the stack's secret versions (DSO's labels) that Swarm holds now.</summary>
    public async Task<IReadOnlyList<string>> StackSecretsAsync(string stack, CancellationToken cancellationToken) =>
        [.. (await OursAsync(stack, cancellationToken)).Select(s => s.Spec?.Name ?? s.ID).Order(StringComparer.Ordinal)];

    public void Dispose() => _client.Dispose();

    private async Task<List<Docker.DotNet.Models.Secret>> OursAsync(string stack, CancellationToken cancellationToken) =>
        [.. (await Reach(() => _client.Secrets.ListAsync(cancellationToken)))
            .Where(s => s.Spec?.Labels is { } labels && labels.TryGetValue(SwarmNames.ManagedLabel, out var managed) && managed == "true"
                && labels.TryGetValue(SwarmNames.StackLabel, out var owner) && owner == stack)];

    private async Task<SwarmOutcome?> CheckAsync(string name, IReadOnlySet<string> secrets, bool updated, CancellationToken cancellationToken)
    {
        var service = await FindServiceAsync(name, cancellationToken)
            ?? throw new DsoException($"service {name} is gone: removed while DSO waited for it");
        var state = service.UpdateStatus?.State;
        switch (state)
        {
            case "rollback_completed":
                return new SwarmOutcome(name, false, $"Swarm rolled it back to the previous version ({await LastTaskErrorAsync(service.ID, cancellationToken)})");
            case "paused" or "rollback_paused":
                return new SwarmOutcome(name, false, $"Swarm paused its update ({state}): {service.UpdateStatus!.Message}");
        }

        if (updated && state != "completed")
        {
            return null;
        }

        var tasks = await _client.Tasks.ListAsync(new TasksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["service"] = new Dictionary<string, bool> { [service.ID] = true },
                ["desired-state"] = new Dictionary<string, bool> { ["running"] = true },
            },
        }, cancellationToken);
        var onVersion = tasks.Count(t => t.Status?.State == TaskState.Running && secrets.IsSubsetOf(SecretNames(t.Spec)));
        var wanted = service.Spec?.Mode?.Replicated?.Replicas is { } replicas ? (int)replicas : Math.Max(1, tasks.Count);
        return onVersion >= wanted && onVersion == tasks.Count
            ? new SwarmOutcome(name, true, $"{onVersion} task{(onVersion == 1 ? string.Empty : "s")} running on {secrets.Count} secret version{(secrets.Count == 1 ? string.Empty : "s")}")
            : null;
    }

    /// <summary>Why the newest failed task of a service ended, as Swarm recorded it.</summary>
    private async Task<string> LastTaskErrorAsync(string serviceId, CancellationToken cancellationToken)
    {
        var tasks = await _client.Tasks.ListAsync(new TasksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = new Dictionary<string, bool> { [serviceId] = true } },
        }, cancellationToken);
        var failed = tasks.Where(t => t.Status?.State is TaskState.Failed or TaskState.Rejected).MaxBy(t => t.Status!.Timestamp);
        return failed is null
            ? "no task failed; the update did not pass its monitor period"
            : $"a new task {failed.Status!.State.ToString()!.ToLowerInvariant()}: {DsoException.OneLine(failed.Status.Err ?? failed.Status.Message ?? "no reason given")}";
    }

    private async Task<SwarmService?> FindServiceAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.Swarm.InspectServiceAsync(name, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A secret DSO mounted: its target is under DSO's secrets path.</summary>
    private static bool IsDso(SecretReference secret) =>
        secret.File?.Name?.StartsWith(Planning.OverrideBuilder.SecretsMountPath + "/", StringComparison.Ordinal) == true;

    private static HashSet<string> SecretNames(ServiceSpec? spec) => SecretNames(spec?.TaskTemplate);

    private static HashSet<string> SecretNames(TaskSpec? spec) =>
        (spec?.ContainerSpec?.Secrets ?? []).Select(s => s.SecretName).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> SecretIds(ServiceSpec? spec) =>
        (spec?.TaskTemplate?.ContainerSpec?.Secrets ?? []).Select(s => s.SecretID);

    private async Task<T> Reach<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException e)
        {
            throw new DsoException($"cannot reach the Docker engine at {endpoint.Host}: {e.Message}; is dockerd running?");
        }
    }

    private static string ApiMessage(DockerApiException e)
    {
        try
        {
            using var body = System.Text.Json.JsonDocument.Parse(e.ResponseBody ?? string.Empty);
            return body.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text
                ? DsoException.OneLine(text)
                : e.StatusCode.ToString();
        }
        catch (System.Text.Json.JsonException)
        {
            return e.StatusCode.ToString();
        }
    }
}
