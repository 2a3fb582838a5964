using System.Collections.Concurrent;

namespace Dso.Agent.Projects;

/// <summary>
/// One lock per project: registration, repair, rotation, removal and Swarm deploys of one project
/// take turns; different projects do not wait for each other.
/// </summary>
internal sealed class ProjectLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>Holds a project for one caller: registration, repair, rotation and removal take turns.</summary>
    public async Task<IDisposable> LockAsync(string project, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(project, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
