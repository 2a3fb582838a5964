using Dso.Secrets;

namespace Dso.Agent.Secrets;

/// <summary>
/// Values the agent has resolved, in memory only: pinned buffers, mlocked where the kernel allows
/// (status says when it does not), zeroed when replaced or dropped. A value is fresh for the TTL;
/// after that it is still the last known good one, served when its provider fails.
/// </summary>
internal sealed class SecretCache(TimeProvider time, TimeSpan ttl, bool enabled) : IDisposable
{
    private readonly Dictionary<CacheKey, (SecretValue Value, DateTimeOffset FetchedAt)> _entries = [];
    private readonly Lock _gate = new();
    private long _hits;
    private long _misses;
    private long _lastKnownGoodServed;

    public bool Enabled => enabled;

    public string MemoryLock { get; private set; } = "not used yet";

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long LastKnownGoodServed => Interlocked.Read(ref _lastKnownGoodServed);

    /// <summary>A copy of a value fetched less than the TTL ago; the caller disposes it.</summary>
    public SecretValue? TryGetFresh(CacheKey key)
    {
        lock (_gate)
        {
            if (enabled && _entries.TryGetValue(key, out var entry) && time.GetUtcNow() - entry.FetchedAt < ttl)
            {
                Interlocked.Increment(ref _hits);
                return entry.Value.Copy();
            }

            Interlocked.Increment(ref _misses);
            return null;
        }
    }

    /// <summary>A copy of a value fetched less than the TTL ago at a time <paramref name="accept"/> takes; the caller disposes it.</summary>
    public SecretValue? TryGetFetched(CacheKey key, Func<DateTimeOffset, bool> accept)
    {
        lock (_gate)
        {
            if (enabled && _entries.TryGetValue(key, out var entry) && time.GetUtcNow() - entry.FetchedAt < ttl && accept(entry.FetchedAt))
            {
                Interlocked.Increment(ref _hits);
                return entry.Value.Copy();
            }

            Interlocked.Increment(ref _misses);
            return null;
        }
    }

    /// <summary>A copy of the last value fetched, however old (served while the provider fails).</summary>
    public SecretValue? TryGetLastKnownGood(CacheKey key)
    {
        lock (_gate)
        {
            if (!enabled || !_entries.TryGetValue(key, out var entry))
            {
                return null;
            }

            Interlocked.Increment(ref _lastKnownGoodServed);
            return entry.Value.Copy();
        }
    }

    public void Put(CacheKey key, SecretValue value)
    {
        if (!enabled)
        {
            return;
        }

        var copy = value.Copy();
        var lockProblem = copy.TryLockInMemory();
        lock (_gate)
        {
            MemoryLock = lockProblem is null ? "ok" : $"unavailable ({lockProblem}); raise LimitMEMLOCK";
            if (_entries.Remove(key, out var old))
            {
                old.Value.Dispose();
            }

            _entries[key] = (copy, time.GetUtcNow());
        }
    }

    /// <summary>Drops (and zeroes) every value of <paramref name="provider"/>: a reload changed what its paths mean.</summary>
    public int Evict(string provider)
    {
        lock (_gate)
        {
            var keys = _entries.Keys.Where(k => k.Provider == provider).ToList();
            foreach (var key in keys)
            {
                if (_entries.Remove(key, out var old))
                {
                    old.Value.Dispose();
                }
            }

            return keys.Count;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _entries.Values)
            {
                entry.Value.Dispose();
            }

            _entries.Clear();
        }
    }
}
