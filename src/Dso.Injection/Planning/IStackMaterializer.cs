namespace Dso.Injection.Planning;

/// <summary>
/// Resolves a plan's references and writes each service's secrets: in this process (local mode)
/// or by the agent, which holds the provider credentials on a production host.
/// </summary>
internal interface IStackMaterializer
{
    /// <summary>Where the secrets are written, for messages.</summary>
    string Location(string project);

    Task<MaterializedStack> MaterializeAsync(StackPlan plan, CancellationToken cancellationToken);
}
