using Dso.Injection.Planning;
using Dso.Ipc;

namespace Dso.Cli.Agent;

/// <summary>
/// Hands a plan to the agent (POST /v1/projects): the agent resolves the references with its own
/// credentials, writes the files in its RAM directory, binds its proxy for the ports it takes over,
/// and from then on keeps the secrets there and rotates them. Each service's compose labels and
/// published ports travel with it (<see cref="RotationLabels"/>); never a value.
/// </summary>
internal sealed class AgentMaterializer(AgentClient agent) : IStackMaterializer
{
    public string Location(string project) => $"the agent ({agent.SocketPath})";

    /// <summary>What the agent is told of a planned project or stack: services, references (as written), owners, rotation labels.</summary>
    public static ProjectRegistration Registration(StackPlan plan, string? kind = null) => new(
        plan.Project.Name,
        plan.Project.Directory,
        plan.Project.Files,
        [.. plan.Services.Select(s => new ServiceRegistration(
            s.Service.Name,
            s.Owner.Uid,
            s.Owner.Gid,
            [.. s.References.Select(r => new ReferenceRegistration(r.Variable, r.Text, r.Where, r.Rotation, r.SecretsEngineId))],
            RotationLabels.Read(s.Service)))],
        kind);

    public async Task<MaterializedStack> MaterializeAsync(StackPlan plan, CancellationToken cancellationToken)
    {
        var registration = Registration(plan);
        var result = await agent.PostAsync("/v1/projects", registration, IpcJson.Wire.ProjectRegistration, IpcJson.Wire.RegistrationResult, cancellationToken);
        return new MaterializedStack(result.Services.ToDictionary(s => s.Name, s => (s.Directory, s.Fingerprint), StringComparer.Ordinal), result.SecretCount)
        {
            Delivery = result.Services.ToDictionary(s => s.Name, s => new ServiceDelivery(s.Strategy, s.ProxiedPorts ?? []), StringComparer.Ordinal),
            Warnings = result.Warnings ?? [],
        };
    }
}
