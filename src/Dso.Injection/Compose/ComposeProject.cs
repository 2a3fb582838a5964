namespace Dso.Injection.Compose;

/// <summary>A loaded compose project: its name, directory, files and services (all, and the active ones).</summary>
internal sealed record ComposeProject(
    string Name,
    string Directory,
    IReadOnlyList<string> Files,
    string? EnvFile,
    string? FileFormatVersion,
    IReadOnlyList<ComposeService> Services,
    IReadOnlyList<string> ActiveProfiles,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Services compose will consider: no profiles, or one of them is active.</summary>
    public IEnumerable<ComposeService> ActiveServices =>
        Services.Where(s => s.Profiles.Count == 0 || s.Profiles.Any(ActiveProfiles.Contains));

    public ComposeService? Find(string name) => Services.FirstOrDefault(s => s.Name == name);

    /// <summary>Writes the values interpolation put in the files back as `${NAME}` in a message about them.</summary>
    public Func<string, string> Mask { get; init; } = message => message;
}
