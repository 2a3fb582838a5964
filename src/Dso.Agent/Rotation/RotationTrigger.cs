namespace Dso.Agent.Rotation;

/// <summary>
/// Why a rotation runs: the trigger (`poll`, `webhook`, `file`, `rotate`, `recovery`), who asked,
/// when the provider says the value changed (for the detection latency metric), and whether it must
/// run even when nothing changed (<see cref="Force"/>) or retries values that failed before (<see cref="Manual"/>).
/// </summary>
internal sealed record RotationTrigger(string Trigger, string Actor, DateTimeOffset? ChangedAt = null, bool Force = false, bool Manual = false)
{
    public static RotationTrigger Recovery { get; } = new("recovery", "agent", Manual: true);
}
