using Dso.Ipc;

namespace Dso.Injection.Planning;

/// <summary>
/// Where each service's secrets were written (a host path) and their fingerprint; with an agent,
/// also how it rotates each service and which host ports its proxy took over, and what it warned about.
/// </summary>
internal sealed record MaterializedStack(IReadOnlyDictionary<string, (string Directory, string Fingerprint)> Services, int SecretCount)
{
    public IReadOnlyDictionary<string, ServiceDelivery> Delivery { get; init; } = new Dictionary<string, ServiceDelivery>();

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Ports the proxy owns that come from compose `ports:` (compose must not publish them too), by service.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<PortRegistration>> MovedPorts =>
        Delivery.Where(d => d.Value.ProxiedPorts.Any(p => p.Source == PortRegistration.FromCompose))
            .ToDictionary(d => d.Key, d => (IReadOnlyList<PortRegistration>)[.. d.Value.ProxiedPorts.Where(p => p.Source == PortRegistration.FromCompose)], StringComparer.Ordinal);
}
