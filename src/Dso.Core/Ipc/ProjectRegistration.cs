namespace Dso.Ipc;

/// <summary>
/// POST /v1/projects: a compose project handed to the agent by `up` — its services, the
/// references each uses and who owns its files. Never a value: the agent resolves them itself.
/// POST /v1/swarm/stacks takes the same shape for a Swarm stack (<see cref="Kind"/> swarm).
/// </summary>
internal sealed record ProjectRegistration(string Name, string Directory, IReadOnlyList<string> Files, IReadOnlyList<ServiceRegistration> Services, string? Kind = null)
{
    public const string ComposeKind = "compose";
    public const string SwarmKind = "swarm";

    /// <summary>A Swarm stack: its secrets are Swarm secret versions, its services Swarm services.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsSwarm => Kind == SwarmKind;
}

/// <summary>One service of a <see cref="ProjectRegistration"/>, and how it is rotated (null: the agent's defaults).</summary>
internal sealed record ServiceRegistration(string Name, int Uid, int Gid, IReadOnlyList<ReferenceRegistration> References, ServiceRotation? Rotation = null);

/// <summary>
/// One reference of a service: the variable, the reference as written, and where; for a reference
/// a dso.yaml `secrets[]` entry mapped, how a change of it is rotated (null: as the service); for
/// one written as `se://ID`, the id (the agent's Secrets Engine resolver serves it by that name).
/// </summary>
internal sealed record ReferenceRegistration(string Variable, string Reference, string Where, SecretRotation? Rotation = null, string? SecretsEngineId = null);

/// <summary>
/// What the compose file says about rotating a service: its labels (`dso.strategy`, `dso.signal`,
/// `dso.rolling.shared-volumes`, `dso.health.probe`), the TCP ports it publishes or asks the proxy
/// for (`dso.host_ports`), and the services it depends on.
/// </summary>
internal sealed record ServiceRotation(
    string? Strategy,
    string? Signal,
    IReadOnlyList<PortRegistration> Ports,
    IReadOnlyList<string> DependsOn,
    bool AllowSharedVolumes = false,
    string? Probe = null);

/// <summary>A host port of a service: `ports:` of compose (moved to the proxy when rolling) or `dso.host_ports` (always proxied).</summary>
internal sealed record PortRegistration(string HostIp, int HostPort, int ContainerPort, string Source, string Where)
{
    public const string FromCompose = "ports";
    public const string FromLabel = "dso.host_ports";

    /// <summary>As `dso.host_ports` and compose's short syntax write it: `[HOST_IP:]HOST:CONTAINER`.</summary>
    public string Spec => $"{(HostIp is "0.0.0.0" or "" ? string.Empty : HostIp + ":")}{HostPort}:{ContainerPort}";

    public override string ToString() => $"{(HostIp is "0.0.0.0" or "" ? string.Empty : HostIp + ":")}{HostPort}->{ContainerPort}";
}
