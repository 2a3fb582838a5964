namespace Dso.Ipc;

/// <summary>
/// POST /v1/projects: a compose project handed to the agent by `up` — its services, the
/// references each uses and who owns its files. Never a value: the agent resolves them itself.
/// </summary>
internal sealed record ProjectRegistration(string Name, string Directory, IReadOnlyList<string> Files, IReadOnlyList<ServiceRegistration> Services);

/// <summary>One service of a <see cref="ProjectRegistration"/>.</summary>
internal sealed record ServiceRegistration(string Name, int Uid, int Gid, IReadOnlyList<ReferenceRegistration> References);

/// <summary>One reference of a service: the variable, the reference as written, and where.</summary>
internal sealed record ReferenceRegistration(string Variable, string Reference, string Where);
