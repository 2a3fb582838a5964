using Dso.Agent.Observability;
using Dso.Ipc;

namespace Dso.Agent.Secrets;

/// <summary>How each provider's last call went and where its circuit breaker stands, for `status`, `doctor` and the circuit gauge.</summary>
internal sealed class ProviderHealthBook(TimeProvider time, DsoMetrics metrics)
{
    private static readonly string[] CircuitStates = ["closed", "half-open", "open"];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProviderStatus> _providers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<string>> _circuits = new(StringComparer.Ordinal);

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
        }

        Gauge(name, "closed");
    }

    public void Record(string name, string? error)
    {
        string? circuit = null;
        lock (_gate)
        {
            if (_providers.TryGetValue(name, out var status))
            {
                circuit = _circuits.TryGetValue(name, out var read) ? read() : "closed";
                _providers[name] = status with { State = error is null ? "ok" : "error", LastError = error, LastCall = time.GetUtcNow(), Circuit = circuit };
            }
        }

        if (circuit is not null)
        {
            Gauge(name, circuit);
        }
    }

    public IReadOnlyList<ProviderStatus> Snapshot()
    {
        List<ProviderStatus> snapshot;
        lock (_gate)
        {
            foreach (var (name, read) in _circuits)
            {
                _providers[name] = _providers[name] with { Circuit = read() };
            }

            snapshot = [.. _providers.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
        }

        snapshot.ForEach(p => Gauge(p.Name, p.Circuit));
        return snapshot;
    }

    private void Gauge(string name, string state)
    {
        foreach (var candidate in CircuitStates)
        {
            metrics.ProviderCircuit.WithLabels(name, candidate).Set(candidate == state ? 1 : 0);
        }
    }
}
