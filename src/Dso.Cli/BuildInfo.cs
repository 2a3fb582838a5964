using System.Reflection;

namespace Dso.Cli;

/// <summary>Version, commit and build date stamped into the assembly by build/BuildInfo.targets.</summary>
internal sealed record BuildInfo(string Version, string Commit, string BuildDate)
{
    public static BuildInfo Current { get; } = Read(typeof(BuildInfo).Assembly);

    private static BuildInfo Read(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus >= 0 ? informational[..plus] : informational;
        var metadata = assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .ToDictionary(a => a.Key, a => a.Value ?? "unknown", StringComparer.Ordinal);
        return new BuildInfo(
            version,
            metadata.GetValueOrDefault("DsoCommit", "unknown"),
            metadata.GetValueOrDefault("DsoBuildDate", "unknown"));
    }
}
