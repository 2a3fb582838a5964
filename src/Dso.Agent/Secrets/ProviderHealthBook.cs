using Dso.Agent.Observability;
using Dso.Ipc;

namespace Dso.Agent.Secrets;

/// <summary>
/// How each provider's last call went and where its circuit breaker stands, for `status`, `doctor`
/// and the circuit gauge; <see cref="CircuitChanged"/> tells when a breaker moves (for notifications).
/// </summary>
internal sealed class ProviderHealthBook(TimeProvider time, DsoMetrics metrics)
{
    private static readonly string[] CircuitStates = ["closed", "half-open", "open"];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProviderStatus> _providers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<string>> _circuits = new(StringComparer.Ordinal);

    /// <summary>(provider, from, to, last error): raised outside the lock, once per change seen.</summary>
    public event Action<string, string, string, string?>? CircuitChanged;

    /// <summary>Adds a provider; <paramref name="circuit"/> reads its breaker state (null for providers without one).</summary>
    public void Declare(string name, string type, bool insecure, Func<string>? circuit = null)
    {
        lock (_gate)
        {
            _providers[name] = new ProviderStatus(name, type, "unknown", null, null, insecure);
            if (circuit is not null)
            {
                _circuits[name] = circuit;
            }
            else
            {
                _circuits.Remove(name);
            }
        }

        Gauge(name, "closed");
    }

    /// <summary>Forgets the providers a reloaded dso.yaml no longer defines (and their circuit gauges).</summary>
    public void Retain(IEnumerable<string> names)
    {
        var keep = new HashSet<string>(names, StringComparer.Ordinal);
        List<string> gone;
        lock (_gate)
        {
            gone = [.. _providers.Keys.Where(n => !keep.Contains(n))];
            foreach (var name in gone)
            {
                _providers.Remove(name);
                _circuits.Remove(name);
            }
        }

        foreach (var name in gone)
        {
            foreach (var state in CircuitStates)
            {
                metrics.ProviderCircuit.RemoveLabelled(name, state);
            }
        }
    }

    public void Record(string name, string? error)
    {
        string? circuit = null;
        string? before = null;
        lock (_gate)
        {
            if (_providers.TryGetValue(name, out var status))
            {
                before = status.Circuit;
                circuit = _circuits.TryGetValue(name, out var read) ? read() : "closed";
                _providers[name] = status with { State = error is null ? "ok" : "error", LastError = error, LastCall = time.GetUtcNow(), Circuit = circuit };
            }
        }

        if (circuit is not null)
        {
            Gauge(name, circuit);
            Changed(name, before!, circuit, error);
        }
    }

    public IReadOnlyList<ProviderStatus> Snapshot()
    {
        List<ProviderStatus> snapshot;
        var changes = new List<(string Name, string From, string To, string? Error)>();
        lock (_gate)
        {
            foreach (var (name, read) in _circuits)
            {
                var status = _providers[name];
                var now = read();
                if (now != status.Circuit)
                {
                    changes.Add((name, status.Circuit, now, status.LastError));
                }

                _providers[name] = status with { Circuit = now };
            }

            snapshot = [.. _providers.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
        }

        snapshot.ForEach(p => Gauge(p.Name, p.Circuit));
        changes.ForEach(c => Changed(c.Name, c.From, c.To, c.Error));
        return snapshot;
    }

    private void Changed(string name, string from, string to, string? error)
    {
        if (from != to)
        {
            CircuitChanged?.Invoke(name, from, to, error);
        }
    }

    private void Gauge(string name, string state)
    {
        foreach (var candidate in CircuitStates)
        {
            metrics.ProviderCircuit.WithLabels(name, candidate).Set(candidate == state ? 1 : 0);
        }
    }
}
