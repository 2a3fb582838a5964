namespace Dso.Injection.Planning;

/// <summary>What the override changes in one service: the launcher as entrypoint, the command, mounts and labels.</summary>
internal sealed record ServiceOverride(
    string Service,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string> Volumes,
    IReadOnlyDictionary<string, string> Labels);
