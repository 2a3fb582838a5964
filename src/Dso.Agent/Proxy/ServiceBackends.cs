namespace Dso.Agent.Proxy;

/// <summary>
/// The containers one service's listeners forward new connections to. Replaced as a whole (a swap
/// is one assignment), so a connection sees the old set or the new one. While a rotation pins it,
/// only the rotation changes it: the engine's start events of a half-made swap must not route.
/// </summary>
internal sealed class ServiceBackends
{
    private readonly Lock _gate = new();
    private Backend[] _backends = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pins;
    private uint _next;

    public IReadOnlyList<Backend> Current => Volatile.Read(ref _backends);

    /// <summary>Called after every change of the set, outside its lock (kernel forwarding rewrites its rules).</summary>
    public Action? OnChanged { get; init; }

    /// <summary>Completes the next time the set changes.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    public bool IsPinned
    {
        get
        {
            lock (_gate)
            {
                return _pins > 0;
            }
        }
    }

    /// <summary>Round robin over the set; null when it is empty.</summary>
    public Backend? Pick(int attempt)
    {
        var backends = Volatile.Read(ref _backends);
        return backends.Length == 0 ? null : backends[(int)((Interlocked.Increment(ref _next) + (uint)attempt) % (uint)backends.Length)];
    }

    public void Replace(IEnumerable<Backend> backends, bool byRotation)
    {
        lock (_gate)
        {
            if (_pins > 0 && !byRotation)
            {
                return;
            }

            ReplaceLocked(backends);
        }

        OnChanged?.Invoke();
    }

    public void Upsert(Backend backend) =>
        Edit(list =>
        {
            list.RemoveAll(b => b.ContainerId == backend.ContainerId);
            list.Add(backend);
        });

    public void Remove(string containerId) => Edit(list => list.RemoveAll(b => b.ContainerId == containerId));

    public IDisposable Pin()
    {
        lock (_gate)
        {
            _pins++;
        }

        return new Unpin(this);
    }

    private void Edit(Action<List<Backend>> change)
    {
        lock (_gate)
        {
            if (_pins > 0)
            {
                return;
            }

            var list = _backends.ToList();
            change(list);
            ReplaceLocked(list);
        }

        OnChanged?.Invoke();
    }

    private void ReplaceLocked(IEnumerable<Backend> backends)
    {
        Volatile.Write(ref _backends, [.. backends.DistinctBy(b => b.ContainerId)]);
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Unpin(ServiceBackends owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                lock (owner._gate)
                {
                    owner._pins--;
                }
            }
        }
    }
}
