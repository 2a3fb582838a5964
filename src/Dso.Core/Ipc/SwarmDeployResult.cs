namespace Dso.Ipc;

/// <summary>
/// The answer to POST /v1/swarm/stacks: for each service, the Swarm secret versions the agent made
/// (or found) for it and where each is mounted. Names, paths and owners only — never a value.
/// <paramref name="Driver"/> names the secret driver that serves the values (null: Swarm holds them).
/// </summary>
internal sealed record SwarmDeployResult(string Stack, IReadOnlyList<SwarmServiceResult> Services, int Versions, int Created, IReadOnlyList<string>? Warnings = null, string? Driver = null);

/// <summary>One service of a <see cref="SwarmDeployResult"/>: its mounts and the fingerprint of what it consumes.</summary>
internal sealed record SwarmServiceResult(string Name, IReadOnlyList<SwarmMountResult> Mounts, string Fingerprint);

/// <summary>One Swarm secret version as a task sees it: the file at <paramref name="Target"/>, owner and mode (octal text, e.g. 0440).</summary>
internal sealed record SwarmMountResult(string Secret, string Target, string Uid, string Gid, string Mode);
