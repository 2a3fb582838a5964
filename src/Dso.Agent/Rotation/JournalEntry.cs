namespace Dso.Agent.Rotation;

/// <summary>
/// One line of the rotation journal: a swap's whole state as of the phase it is about to take.
/// Names, ids, generations and an HMAC fingerprint — never a value.
/// </summary>
internal sealed record JournalEntry(
    string Id,
    string Project,
    string Service,
    string Mode,
    SwapPhase Phase,
    string? OldGeneration,
    string NewGeneration,
    string Fingerprint,
    IReadOnlyList<SwapContainer> Containers,
    DateTimeOffset At,
    string? Outcome = null);

/// <summary>One container being swapped: the old one's id and name, the new one's temporary name and, once created, its id.</summary>
internal sealed record SwapContainer(string OldId, string Name, string NextName, string? NewId = null)
{
    public string PreviousName(string swapId) => $"{Name}-dso-prev-{swapId}";
}
