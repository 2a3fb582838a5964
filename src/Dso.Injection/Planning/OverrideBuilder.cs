namespace Dso.Injection.Planning;

/// <summary>
/// Turns a materialized plan into the compose override (spec 4.4 step 4): dso-init before the
/// original entrypoint, the image's CMD when compose gives neither entrypoint nor command (Docker
/// drops it once the entrypoint is set), the read-only mounts, and the DSO labels (with an agent:
/// the strategy it rotates the service with and the host ports its proxy owns).
/// </summary>
internal static class OverrideBuilder
{
    public const string SecretsMountPath = "/run/secrets/dso";
    public const string LauncherMountPath = "/.dso/dso-init";

    /// <param name="plan">The planned stack.</param>
    /// <param name="materialized">Where its secrets are, and what the agent said about each service.</param>
    /// <param name="launcherPath">dso-init on the host.</param>
    /// <param name="renderSentinel">Adds the label <see cref="Compose.ComposeRenderer"/> reads to learn whether compose escapes `$`.</param>
    public static string Build(StackPlan plan, MaterializedStack materialized, string launcherPath, bool renderSentinel = false) =>
        OverrideWriter.Write(plan.Project.FileFormatVersion, plan.Services.Select(service =>
        {
            var (directory, fingerprint) = materialized.Services[service.Service.Name];
            var compose = service.Service;
            var labels = new Dictionary<string, string>
            {
                ["dso.managed"] = "true",
                ["dso.project"] = plan.Project.Name,
                ["dso.service"] = compose.Name,
                ["dso.fingerprint"] = fingerprint,
            };
            if (materialized.Delivery.TryGetValue(compose.Name, out var delivery))
            {
                if (delivery.Strategy is { } strategy)
                {
                    labels["dso.strategy"] = strategy;
                }

                if (delivery.ProxiedPorts.Count > 0)
                {
                    labels["dso.host_ports"] = string.Join(",", delivery.ProxiedPorts.Select(p => p.Spec));
                }
            }

            if (renderSentinel)
            {
                labels[Compose.ComposeRenderer.SentinelLabel] = Compose.ComposeRenderer.SentinelValue;
            }

            var (entrypoint, command) = Launch(service);
            return new ServiceOverride(
                compose.Name,
                entrypoint,
                command,
                [$"{directory}:{SecretsMountPath}:ro", $"{launcherPath}:{LauncherMountPath}:ro"],
                labels,
                MappedEnvironment(service));
        }));

    /// <summary>The variables dso.yaml's `secrets:` mapped onto the service, each set to its reference (the compose file has none or a placeholder).</summary>
    public static IReadOnlyDictionary<string, string> MappedEnvironment(ServicePlan service) =>
        service.References.Where(r => r.Mapped).ToDictionary(r => r.Variable, r => r.Text, StringComparer.Ordinal);

    /// <summary>dso-init before the original entrypoint, and the image's CMD when compose gives neither entrypoint nor command (Docker drops it once the entrypoint is set).</summary>
    public static (IReadOnlyList<string> Entrypoint, IReadOnlyList<string>? Command) Launch(ServicePlan service) =>
        ([LauncherMountPath, "--", .. service.Service.Entrypoint ?? service.Image.Entrypoint ?? []],
         service.Service.Entrypoint is null && service.Service.Command is null ? service.Image.Command : null);
}
