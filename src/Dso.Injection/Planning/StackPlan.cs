using Dso.Injection.Compose;

namespace Dso.Injection.Planning;

/// <summary>A compose project's services that use references, planned but not yet materialized.</summary>
internal sealed record StackPlan(ComposeProject Project, IReadOnlyList<ServicePlan> Services, IReadOnlyList<string> Warnings)
{
    public int ReferenceCount => Services.Sum(s => s.References.Count);
}
