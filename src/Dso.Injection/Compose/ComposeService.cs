using Dso.Yaml;
namespace Dso.Injection.Compose;

/// <summary>What DSO needs to know of one compose service, after merging every compose file.</summary>
internal sealed record ComposeService(
    string Name,
    string Where,
    string? Image,
    bool HasBuild,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Command,
    IReadOnlyList<EnvironmentEntry> Environment,
    IReadOnlyList<string> Profiles,
    string? User,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> DependsOn,
    YMap? Extension,
    IReadOnlyList<PublishedPort> Ports,
    string? ContainerName = null)
{
    /// <summary>The environment as the container gets it: env_file entries first, `environment:` over them.</summary>
    public IReadOnlyDictionary<string, EnvironmentEntry> EffectiveEnvironment =>
        Environment.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
}
