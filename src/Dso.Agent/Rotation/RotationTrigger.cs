namespace Dso.Agent.Rotation;

/// <summary>
/// Why a rotation runs: the trigger (`poll`, `webhook`, `file`, `rotate`, `recovery`), who asked,
/// when the provider says the value changed (for the detection latency metric), and whether it must
/// run even when nothing changed (<see cref="Force"/>) or retries values that failed before (<see cref="Manual"/>).
/// <see cref="Variables"/> names the service's variables whose secrets changed, so a dso.yaml
/// `secrets[]` entry's own strategy applies to a change of that secret only (null: all of them).
/// </summary>
internal sealed record RotationTrigger(string Trigger, string Actor, DateTimeOffset? ChangedAt = null, bool Force = false, bool Manual = false)
{
    public static RotationTrigger Recovery { get; } = new("recovery", "agent", Manual: true);

    public IReadOnlySet<string>? Variables { get; init; }

    /// <summary>Two changes of one service coalesced: all the variables either named (null when either meant all).</summary>
    public static IReadOnlySet<string>? Union(IReadOnlySet<string>? a, IReadOnlySet<string>? b) =>
        a is null || b is null ? null : new HashSet<string>(a.Concat(b), StringComparer.Ordinal);
}
