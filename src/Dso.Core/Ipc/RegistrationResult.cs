namespace Dso.Ipc;

/// <summary>The answer to a registration: where each service's secrets are, and their fingerprint.</summary>
internal sealed record RegistrationResult(string Project, IReadOnlyList<MaterializedService> Services, int SecretCount);

/// <summary>One service the agent materialized.</summary>
internal sealed record MaterializedService(string Name, string Directory, string Fingerprint);
