namespace Dso.Agent.Rotation;

/// <summary>
/// The debounce window of the rotation queue (spec 5): services whose secrets changed, each due at
/// the end of a window counted from its first change (later changes coalesce into it and never
/// push it back), or at once. Coalesced changes keep the earliest change time and every variable
/// either named. Time comes from the <see cref="TimeProvider"/> the agent runs on, so tests move it.
/// </summary>
internal sealed class PendingRotations(TimeProvider time, TimeSpan debounce)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Project, string Service), (DateTimeOffset Due, RotationTrigger Trigger)> _pending = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Adds the services one change concerns, with one clock reading, so that they come due
    /// together (one batch per project); each is coalesced with a change of it already waiting.
    /// <paramref name="atOnce"/> says, for a service and its coalesced trigger, whether it skips the window.
    /// </summary>
    public void Add(IReadOnlyList<((string Project, string Service) Service, RotationTrigger Trigger)> changes, Func<(string Project, string Service), RotationTrigger, bool> atOnce)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var (service, trigger) in changes)
            {
                var own = trigger;
                var pending = _pending.TryGetValue(service, out var existing);
                if (pending)
                {
                    var changedAt = existing.Trigger.ChangedAt is { } first && (trigger.ChangedAt is null || first < trigger.ChangedAt) ? first : trigger.ChangedAt;
                    own = existing.Trigger with { ChangedAt = changedAt, Variables = RotationTrigger.Union(existing.Trigger.Variables, trigger.Variables) };
                }

                _pending[service] = (atOnce(service, own) ? now : pending ? existing.Due : now + debounce, own);
            }
        }
    }

    /// <summary>Drops services (they are rotated now, out of the window).</summary>
    public void Remove(IEnumerable<(string Project, string Service)> services)
    {
        lock (_gate)
        {
            foreach (var service in services)
            {
                _pending.Remove(service);
            }
        }
    }

    /// <summary>Takes the services that are due, and says how long until the next one is (null: none waits).</summary>
    public IReadOnlyList<(string Project, string Service, RotationTrigger Trigger)> TakeDue(out TimeSpan? untilNext)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            List<(string Project, string Service, RotationTrigger Trigger)> due = [.. _pending.Where(p => p.Value.Due <= now).Select(p => (p.Key.Project, p.Key.Service, p.Value.Trigger))];
            foreach (var item in due)
            {
                _pending.Remove((item.Project, item.Service));
            }

            untilNext = _pending.Count == 0 ? null : _pending.Values.Min(p => p.Due) - now;
            return due;
        }
    }
}
