using System.Threading.Channels;

namespace Dso.Agent.Rotation;

/// <summary>
/// What change detection found (spec 5): the services a changed secret concerns, why, and per
/// service the variables whose secrets changed (absent: all). <see cref="Immediate"/> skips the
/// debounce window (a first sight checks that a service is up to date; it is not a change).
/// </summary>
internal sealed record DetectedChange(
    IReadOnlyList<(string Project, string Service)> Services,
    RotationTrigger Trigger,
    bool Immediate = false,
    IReadOnlyDictionary<(string Project, string Service), IReadOnlySet<string>>? Changed = null);

/// <summary>
/// The channel between change detection and the rotation queue: detection (polls, webhooks, file
/// watches) posts and never waits; the queue alone reads, coalesces into its debounce window and
/// wakes as soon as something arrives. Unbounded because a post must not block a detector pass,
/// and the queue drains it whole on every wake (the window coalesces, so it never holds more than
/// one entry per service for long).
/// </summary>
internal sealed class RotationRequests
{
    private readonly Channel<DetectedChange> _channel = Channel.CreateUnbounded<DetectedChange>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<DetectedChange> Reader => _channel.Reader;

    /// <summary>Hands a change to the queue.</summary>
    public void Post(DetectedChange change)
    {
        if (!_channel.Writer.TryWrite(change))
        {
            throw new InvalidOperationException("the rotation queue no longer takes changes");
        }
    }
}
