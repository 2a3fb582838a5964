namespace Dso.Ipc;

/// <summary>
/// POST /v1/rotate (`docker dso rotate`): check now and rotate the chosen services whose consumed
/// values changed — all services of all projects when nothing narrows it; <see cref="Force"/>
/// rotates them even when nothing changed. The agent answers when every rotation has finished.
/// </summary>
internal sealed record RotateRequest(string? Project, IReadOnlyList<string> Services, string? Secret, bool Force);

/// <summary>The answer to <see cref="RotateRequest"/>: one result per service considered.</summary>
internal sealed record RotateResponse(IReadOnlyList<RotationResult> Results);

/// <summary>
/// How one rotation of one service went. Outcome: `rotated`, `unchanged` (the consumed values are
/// the ones deployed), `failed` (the old containers kept serving), `skipped` (strategy none, or
/// rotation disabled). <see cref="Timings"/> splits the duration, in seconds: `resolve`, and for a
/// swap `create`, `start_to_healthy` (the new container's own time to become ready), `switch`,
/// `drain` (the grace the old container keeps its connections) and `cleanup`.
/// </summary>
internal sealed record RotationResult(
    string Project,
    string Service,
    string Strategy,
    string Outcome,
    string Message,
    string Trigger,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    IReadOnlyList<string> Containers,
    IReadOnlyDictionary<string, double>? Timings = null)
{
    public const string Rotated = "rotated";
    public const string Unchanged = "unchanged";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}
