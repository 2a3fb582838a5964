namespace Dso.Agent.Projects;

/// <summary>A managed service's secrets as the agent last left them.</summary>
internal sealed record ServiceState(string State, string? Message, int Secrets, string? Fingerprint, string? Directory, DateTimeOffset? MaterializedAt)
{
    public static ServiceState Pending(int secrets) => new("pending", null, secrets, null, null, null);
}
