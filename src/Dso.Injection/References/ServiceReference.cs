using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// A reference as one service uses it: the variable that holds it, the reference exactly as written
/// (what the container's environment will hold), and where it was written. A reference a dso.yaml
/// `secrets[]` entry mapped is <paramref name="Mapped"/> (the override puts it in the environment)
/// and carries that entry's rotation. One written as Docker's `se://ID` holds the id in
/// <paramref name="SecretsEngineId"/> and the reference dso.yaml's realms map it to in Text.
/// </summary>
internal sealed record ServiceReference(string Service, string Variable, string Text, SecretReference Reference, string Where, bool Mapped = false, Dso.Ipc.SecretRotation? Rotation = null, string? SecretsEngineId = null)
{
    public override string ToString() => $"{Reference} ({Where}, service {Service}, {Variable})";
}
