using Dso.Agent.Docker;
using Dso.Agent.Projects;
using Dso.Agent.Proxy;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Ipc;

namespace Dso.Agent.Hosting;

/// <summary>Assembles GET /v1/status from the registry, the providers' health, the cache, the containers, the detector's checks, the proxy and the last rotations.</summary>
internal sealed class StatusReporter(
    AgentRuntime runtime,
    LiveConfig config,
    ProjectRegistry projects,
    ProviderHealthBook providers,
    SecretCache cache,
    ContainerBook containers,
    ChangeDetector detector,
    TcpProxy proxy,
    RotationBook rotations,
    TimeProvider time)
{
    public StatusReport Report(IReadOnlyDictionary<string, IReadOnlyDictionary<string, SwarmServiceStatus>>? swarm = null)
    {
        var options = runtime.Options;
        var configuration = config.State;
        var agent = new AgentStatus(
            Version,
            Environment.ProcessId,
            runtime.StartedAt,
            Math.Round((time.GetUtcNow() - runtime.StartedAt).TotalSeconds, 1),
            options.SocketPath,
            options.ApiAddress,
            options.StateDirectory,
            projects.SecretsDirectory,
            runtime.IsReady,
            cache.MemoryLock,
            configuration.Loaded.Path,
            configuration.LoadedAt,
            configuration.LastError,
            configuration.Reloads,
            options.SecretDriverName,
            options.SecretDriverSocket);
        var checks = detector.Snapshot();
        var managed = projects.Snapshot().Select(p => new ProjectStatus(
            p.Name,
            p.Registration.Directory,
            p.RegisteredAt,
            [.. p.Registration.Services.Select(s =>
            {
                var state = p.Services.GetValueOrDefault(s.Name) ?? ServiceState.Pending(s.References.Count);
                var secretChecks = Projects.RegistrationRules.Parsed(s).Select(r =>
                {
                    var key = r.Parsed is { } parsed ? detector.KeyOf(parsed) : null;
                    var watch = key is { } k ? checks.GetValueOrDefault(k) : null;
                    return new SecretCheckStatus(r.Registration.Reference, watch?.Version, watch?.LastCheck, watch?.NextCheck);
                }).ToList();
                return new ServiceStatus(
                    s.Name,
                    state.State,
                    state.Message,
                    state.Secrets,
                    state.Fingerprint,
                    state.MaterializedAt,
                    containers.Of(p.Name, s.Name),
                    projects.PolicyOf(p.Registration, s).Strategy,
                    [.. proxy.PortsOf(p.Name, s.Name).Select(port => port.ToString())],
                    secretChecks,
                    rotations.LastOf(p.Name, s.Name),
                    swarm?.GetValueOrDefault(p.Name)?.GetValueOrDefault(s.Name));
            })],
            p.Registration.IsSwarm ? ProjectRegistration.SwarmKind : ProjectRegistration.ComposeKind)).ToList();
        return new StatusReport(agent, providers.Snapshot(), managed, new CacheStatus(cache.Enabled, cache.Count, cache.Hits, cache.Misses, cache.LastKnownGoodServed));
    }

    public static string Version { get; } =
        typeof(StatusReporter).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
