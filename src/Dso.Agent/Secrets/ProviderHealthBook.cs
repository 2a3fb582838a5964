using Dso.Ipc;

namespace Dso.Agent.Secrets;

/// <summary>How each provider's last call went, for `status` and `doctor`.</summary>
internal sealed class ProviderHealthBook(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProviderStatus> _providers = new(StringComparer.Ordinal);

    public void Declare(string name, string type, bool insecure)
    {
        lock (_gate)
        {
            _providers[name] = new ProviderStatus(name, type, "unknown", null, null, insecure);
        }
    }

    public void Record(string name, string? error)
    {
        lock (_gate)
        {
            if (_providers.TryGetValue(name, out var status))
            {
                _providers[name] = status with { State = error is null ? "ok" : "error", LastError = error, LastCall = time.GetUtcNow() };
            }
        }
    }

    public IReadOnlyList<ProviderStatus> Snapshot()
    {
        lock (_gate)
        {
            return [.. _providers.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
        }
    }
}
