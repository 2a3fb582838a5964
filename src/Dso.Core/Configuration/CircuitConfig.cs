namespace Dso.Configuration;

/// <summary>`providers.NAME.circuit`.</summary>
internal sealed class CircuitConfig
{
    [ConfigKey("failures", "Failed calls in a row (each after its retries) that open the circuit.")]
    public int Failures { get; set; } = 5;

    [ConfigKey("open_for", "How long an open circuit refuses calls before one trial call (half-open).")]
    public TimeSpan OpenFor { get; set; } = TimeSpan.FromSeconds(30);
}
