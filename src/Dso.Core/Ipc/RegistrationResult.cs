namespace Dso.Ipc;

/// <summary>The answer to a registration: where each service's secrets are, their fingerprint, and how the agent will rotate it.</summary>
internal sealed record RegistrationResult(string Project, IReadOnlyList<MaterializedService> Services, int SecretCount, IReadOnlyList<string>? Warnings = null);

/// <summary>
/// One service the agent materialized: its strategy, and the host ports its proxy now owns (compose
/// must not publish those; `up` takes them out of the project it runs).
/// </summary>
internal sealed record MaterializedService(string Name, string Directory, string Fingerprint, string? Strategy = null, IReadOnlyList<PortRegistration>? ProxiedPorts = null);
