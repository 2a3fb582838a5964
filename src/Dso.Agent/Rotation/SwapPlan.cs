namespace Dso.Agent.Rotation;

/// <summary>
/// A swap to run: the service's containers to replace, the generation of secrets they run on and
/// the new one (already written), the fingerprint of the new values, and `rolling` or `restart`.
/// The swap records how long its steps took in <see cref="Timings"/>.
/// </summary>
internal sealed record SwapPlan(
    string Project,
    string Service,
    string Mode,
    ServicePolicy Policy,
    IReadOnlyList<ServiceContainer> Old,
    string? OldGeneration,
    string NewGeneration,
    string Fingerprint)
{
    public Dictionary<string, double> Timings { get; } = new(StringComparer.Ordinal);
}
