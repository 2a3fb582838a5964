using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Serialization;
using Docker.DotNet;
using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Injection.References;
using Dso.Injection.Swarm;
using Dso.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Swarm;

/// <summary>What the engine sends to /SecretProvider.GetSecret when it dispatches a task (Docker's secret driver protocol).</summary>
internal sealed record SecretDriverRequest(
    string? SecretName,
    Dictionary<string, string?>? SecretLabels,
    string? ServiceID,
    string? ServiceName,
    string? TaskID,
    string? TaskName,
    string? NodeID);

/// <summary>The driver's answer: the value (the caller writes and disposes it), or why there is none.</summary>
internal sealed record SecretDriverAnswer(SecretValue? Value, string? Err);

/// <summary>The plugin handshake's answer (/Plugin.Activate).</summary>
internal sealed record PluginActivation(IReadOnlyList<string> Implements);

/// <summary>A refusal or failure without a value (the answer with a value is written by hand, so no serializer buffer holds it).</summary>
internal sealed record PluginError(string Err);

/// <summary>Docker's plugin wire format: property names as declared (Go's), matched case-insensitively on the way in.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SecretDriverRequest))]
[JsonSerializable(typeof(PluginError))]
[JsonSerializable(typeof(PluginActivation))]
internal sealed partial class PluginJson : JsonSerializerContext;

/// <summary>
/// The values of the secret versions this agent made for driver-backed stacks, by stack and
/// version name, kept in memory only (pinned, zeroed when forgotten) so that a task Swarm starts
/// on an older version — a rollback — gets that version's bytes. After an agent restart only the
/// current values can be served again (they are resolved anew); an older version's task then
/// fails to start, never with another value.
/// </summary>
internal sealed class DriverVersions : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Stack, string Name), SecretValue> _values = [];

    public void Keep(string stack, IEnumerable<SwarmSecret> secrets)
    {
        lock (_gate)
        {
            foreach (var secret in secrets)
            {
                if (!_values.ContainsKey((stack, secret.Name)))
                {
                    _values[(stack, secret.Name)] = SecretValue.FromBytes(secret.Data);
                }
            }
        }
    }

    /// <summary>A copy of the version's bytes (the caller disposes it), or null when this agent does not hold it.</summary>
    public SecretValue? Copy(string stack, string name)
    {
        lock (_gate)
        {
            return _values.TryGetValue((stack, name), out var kept) ? kept.Copy() : null;
        }
    }

    /// <summary>Forgets the stack's versions other than <paramref name="keep"/> (all of them when null).</summary>
    public void Forget(string stack, IReadOnlyCollection<string>? keep = null)
    {
        lock (_gate)
        {
            foreach (var key in _values.Keys.Where(k => k.Stack == stack && (keep is null || !keep.Contains(k.Name))).ToList())
            {
                _values.Remove(key, out var removed);
                removed!.Dispose();
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var value in _values.Values)
            {
                value.Dispose();
            }

            _values.Clear();
        }
    }
}

/// <summary>
/// The Docker secret driver (spec 10): Swarm keeps only a secret's name, labels and driver, and
/// asks here for the value each time it dispatches a task that mounts it. Nothing in the request
/// is taken on trust: the secret (its labels and driver), the task (that it mounts the secret) and
/// the task's service are read back from the engine. A version DSO made (labels dso.managed,
/// dso.stack, dso.service) is served only to the service it was made for, of a stack deployed
/// through this agent; a secret made by hand with a `dso.ref` label is resolved through the
/// agent's providers when agent.secret_driver.by_hand allows it. Every answer is audited with the
/// service and task, never the value (a refusal Swarm keeps retrying, once a minute).
/// </summary>
internal sealed class SecretDriver(
    ProjectRegistry projects,
    SwarmStacks stacks,
    DriverVersions versions,
    AgentProviders providers,
    LiveConfig config,
    AgentOptions options,
    DockerClient docker,
    AuditLog audit,
    DsoMetrics metrics,
    TimeProvider time,
    ILogger<SecretDriver> log)
{
    /// <summary>The label that makes a hand-made driver secret a reference.</summary>
    public const string ReferenceLabel = "dso.ref";

    /// <summary>How long one answer may take: the engine's dispatcher waits for it.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan RepeatWindow = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (DateTimeOffset Since, int Repeats)> _recent = new(StringComparer.Ordinal);

    public async Task<SecretDriverAnswer> GetAsync(SecretDriverRequest request, string actor, CancellationToken cancellationToken)
    {
        var name = request.SecretName ?? string.Empty;
        var target = $"secret {Printable(name)} for task {Printable(request.TaskName ?? request.TaskID)}";
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Deadline);
        try
        {
            var (labels, service) = await CheckWithEngineAsync(name, request, bounded.Token);
            target = $"secret {Printable(name)} for service {service} (task {Printable(request.TaskName ?? request.TaskID)})";
            var value = labels.TryGetValue(SwarmNames.ManagedLabel, out var managed) && managed == "true"
                ? await StackValueAsync(name, labels, service, bounded.Token)
                : labels.TryGetValue(ReferenceLabel, out var text) && text is not null
                    ? await ReferenceValueAsync(name, text, service, bounded.Token)
                    : throw new Refusal($"secret {Printable(name)} has neither DSO's stack labels nor a {ReferenceLabel} label; make it with 'docker secret create --driver {options.SecretDriverName} --label {ReferenceLabel}=dso://PATH NAME'");
            metrics.SecretDriverRequests.WithLabels("served").Inc();
            audit.Write(actor, "driver.get", target, "ok");
            return new SecretDriverAnswer(value, null);
        }
        catch (Refusal e)
        {
            metrics.SecretDriverRequests.WithLabels("refused").Inc();
            Report(actor, target, "denied", e.Message);
            return new SecretDriverAnswer(null, $"dso: {e.Message}");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = e is OperationCanceledException
                ? $"no answer within {Deadline.TotalSeconds:0} s (a provider or the engine is slow)"
                : DsoException.OneLine(e.Message);
            metrics.SecretDriverRequests.WithLabels("failed").Inc();
            Report(actor, target, "failed", reason);
            return new SecretDriverAnswer(null, $"dso: {reason}");
        }
    }

    /// <summary>
    /// The secret's labels and the requesting service's name as the engine knows them: the secret
    /// must be this driver's, the task must exist, belong to the service named, and mount the secret.
    /// </summary>
    private async Task<(IReadOnlyDictionary<string, string> Labels, string Service)> CheckWithEngineAsync(string name, SecretDriverRequest request, CancellationToken cancellationToken)
    {
        if (name.Length == 0 || string.IsNullOrEmpty(request.TaskID))
        {
            throw new Refusal("the request names no secret or no task");
        }

        var secret = await InspectAsync(() => docker.Secrets.InspectAsync(name, cancellationToken))
            ?? throw new Refusal($"there is no secret {Printable(name)} in the swarm");
        if (secret.Spec?.Driver?.Name != options.SecretDriverName)
        {
            throw new Refusal($"secret {Printable(name)} is not driver {options.SecretDriverName}'s");
        }

        var task = await InspectAsync(() => docker.Tasks.InspectAsync(request.TaskID, cancellationToken))
            ?? throw new Refusal($"there is no task {Printable(request.TaskID)} in the swarm");
        if (!(task.Spec?.ContainerSpec?.Secrets ?? []).Any(s => s.SecretID == secret.ID || s.SecretName == name))
        {
            throw new Refusal($"task {Printable(request.TaskID)} does not mount secret {Printable(name)}");
        }

        var service = (string.IsNullOrEmpty(task.ServiceID) ? null : await InspectAsync(() => docker.Swarm.InspectServiceAsync(task.ServiceID, cancellationToken)))
            ?? throw new Refusal($"task {Printable(request.TaskID)} belongs to no service");
        var serviceName = service.Spec?.Name ?? string.Empty;
        if (request.ServiceName != serviceName)
        {
            throw new Refusal($"task {Printable(request.TaskID)} is service {Printable(serviceName)}'s, not {Printable(request.ServiceName)}'s");
        }

        return (secret.Spec?.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : [], serviceName);
    }

    /// <summary>A version of a stack deployed through this agent, for the service it was made for.</summary>
    private async Task<SecretValue> StackValueAsync(string name, IReadOnlyDictionary<string, string> labels, string requester, CancellationToken cancellationToken)
    {
        var stack = labels.GetValueOrDefault(SwarmNames.StackLabel) ?? string.Empty;
        var serviceName = labels.GetValueOrDefault(SwarmNames.ServiceLabel) ?? string.Empty;
        if (projects.TryGet(stack) is not { Registration.IsSwarm: true } project)
        {
            throw new Refusal($"stack {Printable(stack)} is not deployed through this agent; deploy it with docker dso stack deploy");
        }

        var service = project.Registration.Services.FirstOrDefault(s => s.Name == serviceName)
            ?? throw new Refusal($"stack {stack} has no service {Printable(serviceName)}");
        var owner = SwarmNames.Service(stack, service.Name);
        if (requester != owner)
        {
            throw new Refusal($"secret {Printable(name)} belongs to service {owner}; service {Printable(requester)} may not mount it");
        }

        if (versions.Copy(stack, name) is { } kept)
        {
            return kept;
        }

        // Not held (the agent restarted since it made the version): the current values, if this is their version.
        using var material = await stacks.PrepareAsync(stack, service, cancellationToken);
        var current = material.Secrets.FirstOrDefault(s => s.Name == name)
            ?? throw new Refusal($"secret {Printable(name)} is not the current value of {owner}'s secrets and this agent does not hold it (made before the agent restarted); deploy the stack again with docker dso stack deploy");
        versions.Keep(stack, material.Secrets);
        return SecretValue.FromBytes(current.Data);
    }

    /// <summary>A hand-made secret: its dso.ref label resolved through the agent's providers.</summary>
    private async Task<SecretValue> ReferenceValueAsync(string name, string text, string requester, CancellationToken cancellationToken)
    {
        if (!config.Current.Agent.SecretDriver.ByHand)
        {
            throw new Refusal($"secret {Printable(name)} is a hand-made reference and agent.secret_driver.by_hand is off");
        }

        if (!SecretReference.TryParse(text, out var reference, out var problem))
        {
            throw new Refusal($"secret {Printable(name)}: label {ReferenceLabel}: {problem}");
        }

        var use = new ServiceReference(requester, ReferenceLabel, text, reference, $"secret {name} (label {ReferenceLabel})");
        using var values = await Injection.References.ReferenceResolver.ResolveAsync([use], providers.Current, cancellationToken);
        return values[reference].Copy();
    }

    /// <summary>Audits and logs a refusal or failure; the same one again within a minute (Swarm retrying a task) is counted, not repeated.</summary>
    private void Report(string actor, string target, string result, string reason)
    {
        var key = $"{target}\0{result}\0{reason}";
        var now = time.GetUtcNow();
        if (_recent.TryGetValue(key, out var seen) && now - seen.Since < RepeatWindow)
        {
            _recent[key] = seen with { Repeats = seen.Repeats + 1 };
            return;
        }

        var repeats = seen.Repeats > 0 ? $" (and {seen.Repeats} more time{(seen.Repeats == 1 ? string.Empty : "s")} in the minute before)" : string.Empty;
        _recent[key] = (now, 0);
        foreach (var stale in _recent.Where(r => now - r.Value.Since >= RepeatWindow && r.Key != key).Select(r => r.Key).ToList())
        {
            _recent.TryRemove(stale, out _);
        }

        audit.Write(actor, "driver.get", target, result, reason + repeats);
        log.LogWarning("secret driver {Result} {Target}: {Reason}{Repeats}", result == "denied" ? "refused" : "could not serve", target, reason, repeats);
    }

    private static async Task<T?> InspectAsync<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static string Printable(string? text) => text is null ? "(none)" : SecretReference.Printable(text, 120);

    private sealed class Refusal(string message) : Exception(message);
}
