namespace Dso.Ipc;

/// <summary>GET /v1/status, printed by `docker dso status` (documented in docs/cli.md).</summary>
internal sealed record StatusReport(AgentStatus Agent, IReadOnlyList<ProviderStatus> Providers, IReadOnlyList<ProjectStatus> Projects, CacheStatus Cache);

/// <summary>
/// The agent itself; <paramref name="Config"/> is its dso.yaml (null: defaults), loaded at
/// <paramref name="ConfigLoadedAt"/>, and <paramref name="ConfigError"/> why the last reload was
/// refused; <paramref name="SecretDriver"/> the Swarm secret driver it serves on
/// <paramref name="SecretDriverSocket"/> (null: none).
/// </summary>
internal sealed record AgentStatus(
    string Version,
    int Pid,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    string Socket,
    string Api,
    string StateDirectory,
    string SecretsDirectory,
    bool Ready,
    string MemoryLock,
    string? Config = null,
    DateTimeOffset? ConfigLoadedAt = null,
    string? ConfigError = null,
    int ConfigReloads = 0,
    string? SecretDriver = null,
    string? SecretDriverSocket = null);

/// <summary>One configured provider, how its last call went, and its circuit breaker (closed, open, half-open; always closed for local and file, which have none).</summary>
internal sealed record ProviderStatus(string Name, string Type, string State, string? LastError, DateTimeOffset? LastCall, bool Insecure, string Circuit = "closed");

/// <summary>A registered project: a compose project (`up`) or a Swarm stack (`stack deploy`), as <paramref name="Kind"/> says.</summary>
internal sealed record ProjectStatus(string Name, string Directory, DateTimeOffset RegisteredAt, IReadOnlyList<ServiceStatus> Services, string Kind = ProjectRegistration.ComposeKind);

/// <summary>A service of a registered project: its secrets' state and its containers.</summary>
internal sealed record ServiceStatus(
    string Name,
    string State,
    string? Message,
    int Secrets,
    string? Fingerprint,
    DateTimeOffset? MaterializedAt,
    IReadOnlyList<ContainerStatus> Containers,
    string Strategy,
    IReadOnlyList<string> ProxiedPorts,
    IReadOnlyList<SecretCheckStatus> Checks,
    RotationResult? LastRotation,
    SwarmServiceStatus? Swarm = null);

/// <summary>
/// A service of a Swarm stack as Swarm reports it: its name there, the secret versions its spec
/// mounts, its tasks running of those desired, and the state of its last update (Swarm's own:
/// updating, completed, rollback_completed, paused, …; null before any update). Error says why
/// the engine could not be asked.
/// </summary>
internal sealed record SwarmServiceStatus(string Service, IReadOnlyList<string> Versions, int Running, int Desired, string? UpdateState, string? UpdateMessage, string? Error = null);

/// <summary>A secret a service consumes: the version last seen, when it was last checked and when it will be next.</summary>
internal sealed record SecretCheckStatus(string Reference, string? Version, DateTimeOffset? LastCheck, DateTimeOffset? NextCheck);

/// <summary>A container of a managed service, as the engine reports it.</summary>
internal sealed record ContainerStatus(string Id, string Name, string State);

/// <summary>The agent's in-memory secret cache.</summary>
internal sealed record CacheStatus(bool Enabled, int Entries, long Hits, long Misses, long LastKnownGoodServed);
