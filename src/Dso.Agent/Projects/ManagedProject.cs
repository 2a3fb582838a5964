using Dso.Ipc;

namespace Dso.Agent.Projects;

/// <summary>A project the agent is responsible for: what `up` registered, and each service's state.</summary>
internal sealed record ManagedProject(ProjectRegistration Registration, DateTimeOffset RegisteredAt, IReadOnlyDictionary<string, ServiceState> Services)
{
    public string Name => Registration.Name;

    /// <summary>Providers its references name (null stands for the default provider).</summary>
    public IEnumerable<string?> Providers => Registration.Services
        .SelectMany(RegistrationRules.Parsed)
        .Select(r => r.Parsed?.Provider)
        .Distinct();
}
