using System.Collections.Concurrent;
using Dso.Ipc;

namespace Dso.Agent.Rotation;

/// <summary>The last rotation result of each service, for `status`; and how many rotations did work since start.</summary>
internal sealed class RotationBook
{
    private readonly ConcurrentDictionary<(string Project, string Service), RotationResult> _last = new();
    private long _rotated;
    private long _failed;

    public long Rotated => Interlocked.Read(ref _rotated);

    public long Failed => Interlocked.Read(ref _failed);

    public void Record(RotationResult result)
    {
        if (result.Outcome == RotationResult.Unchanged)
        {
            return;
        }

        _last[(result.Project, result.Service)] = result;
        if (result.Outcome == RotationResult.Rotated)
        {
            Interlocked.Increment(ref _rotated);
        }
        else if (result.Outcome == RotationResult.Failed)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    public RotationResult? LastOf(string project, string service) => _last.GetValueOrDefault((project, service));

    public void Forget(string project)
    {
        foreach (var key in _last.Keys.Where(k => k.Project == project))
        {
            _last.TryRemove(key, out _);
        }
    }
}
