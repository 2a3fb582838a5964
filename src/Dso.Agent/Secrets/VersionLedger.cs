namespace Dso.Agent.Secrets;

/// <summary>
/// When the agent last saw each watched secret's current version confirmed (first seen, or
/// checked unchanged). A value fetched after that moment is that version or a newer one, so a
/// rotation may take it from the cache instead of reading it again; a secret whose check failed,
/// or that was never checked since the agent started, has no entry and is read.
/// </summary>
internal sealed class VersionLedger
{
    private readonly Dictionary<(string Provider, string Path), DateTimeOffset> _since = [];
    private readonly Lock _gate = new();

    /// <summary>The version seen at <paramref name="at"/> is new: only values fetched from now on are current.</summary>
    public void Moved(string provider, string path, DateTimeOffset at)
    {
        lock (_gate)
        {
            _since[(provider, path)] = at;
        }
    }

    /// <summary>A check at <paramref name="at"/> found the version unchanged; it is current since the first such sighting.</summary>
    public void Confirmed(string provider, string path, DateTimeOffset at)
    {
        lock (_gate)
        {
            _since.TryAdd((provider, path), at);
        }
    }

    /// <summary>The check failed or the secret is gone: nothing cached is known to be current.</summary>
    public void Unknown(string provider, string path)
    {
        lock (_gate)
        {
            _since.Remove((provider, path));
        }
    }

    /// <summary>Whether a value of this secret fetched at <paramref name="fetchedAt"/> is of its current version.</summary>
    public bool IsCurrent(string provider, string path, DateTimeOffset fetchedAt)
    {
        lock (_gate)
        {
            return _since.TryGetValue((provider, path), out var since) && fetchedAt >= since;
        }
    }
}
