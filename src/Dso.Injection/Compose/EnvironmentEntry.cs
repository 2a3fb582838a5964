using Dso.Ipc;

namespace Dso.Injection.Compose;

/// <summary>
/// One variable of a service's environment and where it was set (compose file, env_file, or a
/// dso.yaml `secrets[]` mapping: then <see cref="Mapped"/>, with that entry's rotation). An `se://ID`
/// value is replaced by the `dso://` reference dso.yaml's realms map it to, Mapped, with
/// <see cref="SecretsEngineId"/> set to the id as written.
/// </summary>
internal sealed record EnvironmentEntry(string Name, string? Value, string Where, bool Mapped = false, SecretRotation? Rotation = null, string? SecretsEngineId = null);
