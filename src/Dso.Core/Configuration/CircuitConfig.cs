namespace Dso.Configuration;

/// <summary>`providers.NAME.circuit`.</summary>
internal sealed class CircuitConfig
{
    [ConfigKey("failures", "Failed calls (each after its retries), with none succeeding in the last minute, that open the circuit; at least 2.")]
    public int Failures { get; set; } = 5;

    [ConfigKey("open_for", "How long an open circuit refuses calls before one trial call (half-open).")]
    public TimeSpan OpenFor { get; set; } = TimeSpan.FromSeconds(30);
}
