using Dso.Configuration;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>
/// How the agent rotates one service, settled from its registration (compose labels) and dso.yaml:
/// for each key the service label wins, then `defaults.rotation`, the top-level `rotation`,
/// `agent.rotation`, and finally <see cref="RotationDefaults"/>. The proxy owns the ports of
/// `dso.host_ports` always, and a `rolling` service's published TCP ports.
/// </summary>
internal sealed record ServicePolicy(
    string Strategy,
    bool Enabled,
    string Signal,
    TimeSpan HealthTimeout,
    TimeSpan Grace,
    string? Probe,
    bool AllowSharedVolumes,
    IReadOnlyList<PortRegistration> ProxiedPorts,
    IReadOnlyList<string> DependsOn)
{
    public static ServicePolicy For(ServiceRegistration service, DsoConfig config)
    {
        var sections = new[] { config.Defaults.Rotation, config.Rotation, config.Agent.Rotation };
        T Pick<T>(Func<RotationConfig, T?> key, T fallback)
            where T : class => sections.Select(s => s is null ? null : key(s)).FirstOrDefault(v => v is not null) ?? fallback;
        T PickValue<T>(Func<RotationConfig, T?> key, T fallback)
            where T : struct => sections.Select(s => s is null ? null : key(s)).FirstOrDefault(v => v is not null) ?? fallback;

        var rotation = service.Rotation;
        var strategy = rotation?.Strategy ?? Pick(s => s.Strategy, RotationDefaults.Strategy);
        var ports = rotation?.Ports ?? [];
        return new ServicePolicy(
            strategy,
            PickValue(s => s.Enabled, RotationDefaults.Enabled),
            rotation?.Signal ?? SignalName.Normalize(Pick(s => s.Signal, RotationDefaults.Signal)) ?? RotationDefaults.Signal,
            PickValue(s => s.HealthCheckTimeout, RotationDefaults.HealthCheckTimeout),
            PickValue(s => s.GracePeriod, RotationDefaults.GracePeriod),
            rotation?.Probe,
            rotation?.AllowSharedVolumes ?? false,
            [.. ports.Where(p => p.Source == PortRegistration.FromLabel || strategy == "rolling")],
            rotation?.DependsOn ?? []);
    }

    /// <summary>Strategies that replace containers (and so can deliver new environment values).</summary>
    public bool Replaces => Strategy is "restart" or "rolling";
}
