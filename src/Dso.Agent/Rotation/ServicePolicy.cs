using Dso.Configuration;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>
/// How the agent rotates one service, settled from its registration (compose labels, and the
/// rotation of each reference a dso.yaml `secrets[]` entry mapped) and dso.yaml: for each key the
/// service label wins, then the changed secrets' own entries, then `defaults.rotation`, the
/// top-level `rotation`, `agent.rotation`, and finally <see cref="RotationDefaults"/>. The proxy
/// owns the ports of `dso.host_ports` always, and a `rolling` service's published TCP ports.
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
    /// <summary>From least to most thorough: when several changed secrets ask for different strategies, the most thorough covers them all.</summary>
    private static readonly string[] Thoroughness = ["none", "live", "signal", "restart", "rolling"];

    /// <param name="service">The registered service.</param>
    /// <param name="config">The agent's dso.yaml.</param>
    /// <param name="changed">The variables whose secrets changed (null: all of them — a manual rotation, a check against the baseline).</param>
    public static ServicePolicy For(ServiceRegistration service, DsoConfig config, IReadOnlySet<string>? changed = null)
    {
        var sections = new[] { config.Defaults.Rotation, config.Rotation, config.Agent.Rotation };
        T Pick<T>(Func<RotationConfig, T?> key, T fallback)
            where T : class => sections.Select(s => s is null ? null : key(s)).FirstOrDefault(v => v is not null) ?? fallback;
        T PickValue<T>(Func<RotationConfig, T?> key, T fallback)
            where T : struct => sections.Select(s => s is null ? null : key(s)).FirstOrDefault(v => v is not null) ?? fallback;

        var rotation = service.Rotation;
        var fallback = Pick(s => s.Strategy, RotationDefaults.Strategy);
        var considered = changed is null ? service.References : [.. service.References.Where(r => changed.Contains(r.Variable))];
        if (considered.Count == 0)
        {
            considered = service.References;
        }

        var own = considered.Select(r => r.Rotation).OfType<SecretRotation>().ToList();
        var strategy = rotation?.Strategy ?? Most(considered.Select(r => r.Rotation?.Strategy ?? fallback)) ?? fallback;
        // The ports are the service's, not one change's: proxied when any of its secrets rotates it by rolling.
        var serviceStrategy = rotation?.Strategy ?? Most(service.References.Select(r => r.Rotation?.Strategy ?? fallback)) ?? fallback;
        var ports = rotation?.Ports ?? [];
        return new ServicePolicy(
            strategy,
            PickValue(s => s.Enabled, RotationDefaults.Enabled),
            rotation?.Signal ?? own.Select(r => r.Signal).FirstOrDefault(v => v is not null) ?? SignalName.Normalize(Pick(s => s.Signal, RotationDefaults.Signal)) ?? RotationDefaults.Signal,
            own.Select(r => r.HealthTimeout).Max() ?? PickValue(s => s.HealthCheckTimeout, RotationDefaults.HealthCheckTimeout),
            own.Select(r => r.Grace).Max() ?? PickValue(s => s.GracePeriod, RotationDefaults.GracePeriod),
            rotation?.Probe,
            rotation?.AllowSharedVolumes ?? false,
            [.. ports.Where(p => p.Source == PortRegistration.FromLabel || serviceStrategy == "rolling")],
            rotation?.DependsOn ?? []);
    }

    /// <summary>Strategies that replace containers (and so can deliver new environment values).</summary>
    public bool Replaces => Strategy is "restart" or "rolling";

    private static string? Most(IEnumerable<string> strategies) =>
        strategies.OrderByDescending(s => Array.IndexOf(Thoroughness, s)).FirstOrDefault();
}
