using Dso.Ipc;

namespace Dso.Injection.Compose;

/// <summary>
/// One variable of a service's environment and where it was set (compose file, env_file, or a
/// dso.yaml `secrets[]` mapping: then <see cref="Mapped"/>, with that entry's rotation).
/// </summary>
internal sealed record EnvironmentEntry(string Name, string? Value, string Where, bool Mapped = false, SecretRotation? Rotation = null);
