namespace Dso.Injection.Planning;

/// <summary>
/// Turns a materialized plan into the compose override (spec 4.4 step 4): dso-init before the
/// original entrypoint, the image's CMD when compose gives neither entrypoint nor command (Docker
/// drops it once the entrypoint is set), the read-only mounts, and the DSO labels.
/// </summary>
internal static class OverrideBuilder
{
    public const string SecretsMountPath = "/run/secrets/dso";
    public const string LauncherMountPath = "/.dso/dso-init";

    public static string Build(StackPlan plan, MaterializedStack materialized, string launcherPath) =>
        OverrideWriter.Write(plan.Project.FileFormatVersion, plan.Services.Select(service =>
        {
            var (directory, fingerprint) = materialized.Services[service.Service.Name];
            var compose = service.Service;
            return new ServiceOverride(
                compose.Name,
                [LauncherMountPath, "--", .. compose.Entrypoint ?? service.Image.Entrypoint ?? []],
                compose.Entrypoint is null && compose.Command is null ? service.Image.Command : null,
                [$"{directory}:{SecretsMountPath}:ro", $"{launcherPath}:{LauncherMountPath}:ro"],
                new Dictionary<string, string>
                {
                    ["dso.managed"] = "true",
                    ["dso.project"] = plan.Project.Name,
                    ["dso.service"] = compose.Name,
                    ["dso.fingerprint"] = fingerprint,
                });
        }));
}
