namespace Dso.Injection.Planning;

/// <summary>
/// What the override changes in one service: the launcher as entrypoint, the command, mounts and
/// labels, and the variables dso.yaml's `secrets:` mapped (each set to its reference, never a value).
/// </summary>
internal sealed record ServiceOverride(
    string Service,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string> Volumes,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string>? Environment = null);
