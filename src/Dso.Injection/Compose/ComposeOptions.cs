namespace Dso.Injection.Compose;

/// <summary>The compose options that decide which project is loaded (compose's own global flags).</summary>
internal sealed record ComposeOptions(
    IReadOnlyList<string> Files,
    string? ProjectName,
    string? ProjectDirectory,
    string? EnvFile,
    IReadOnlyList<string> Profiles)
{
    public static ComposeOptions Default { get; } = new([], null, null, null, []);
}
