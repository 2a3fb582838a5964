using System.Net;
using System.Net.Sockets;
using Dso.Agent.Observability;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Proxy;

/// <summary>
/// The agent's TCP proxy (spec 6): the listeners of every managed service whose host ports it owns,
/// and each service's set of containers. Registration binds a project's listeners before compose
/// runs; the Docker watcher keeps the sets current; a rotation pins a service's set and switches it
/// itself; removing a project closes its listeners.
/// </summary>
internal sealed partial class TcpProxy(ProxyOptions options, DsoMetrics metrics, ILogger<TcpProxy> log, KernelForwarding? forwarding = null) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Lock _sync = new();
    private int _leftoversCleared;
    private readonly Dictionary<(string HostIp, int Port), ProxyListener> _listeners = [];
    private readonly Dictionary<(string Project, string Service), ServiceBackends> _services = [];

    /// <summary>
    /// Makes a project's listeners exactly <paramref name="ports"/> (service → ports): binds the new
    /// ones, closes the ones no longer asked for. Nothing changes when a port cannot be bound.
    /// </summary>
    public void Apply(string project, IReadOnlyDictionary<string, IReadOnlyList<PortRegistration>> ports)
    {
        ApplyListeners(project, ports);
        SyncKernelRules();
    }

    /// <summary>
    /// With `proxy.forwarding: kernel`, makes the kernel's NAT rules match the listeners and their
    /// services' containers now (each change calls it; the agent's start calls it once, so rules a
    /// previous agent left are replaced even when no project is registered).
    /// </summary>
    public void SyncKernelRules()
    {
        if (forwarding is null)
        {
            return;
        }

        if (!options.KernelForwarding)
        {
            if (Interlocked.Exchange(ref _leftoversCleared, 1) == 0)
            {
                forwarding.ClearLeftovers();
            }

            return;
        }

        lock (_sync)
        {
            List<KernelRoute> routes;
            lock (_gate)
            {
                routes = [.. _listeners.Values
                    .Select(l => new KernelRoute(IPAddress.Parse(l.Port.HostIp), l.Port.HostPort, l.Port.ContainerPort, [.. l.Backends.Current.Select(b => b.Address).Where(a => a.AddressFamily == AddressFamily.InterNetwork)]))
                    .Where(r => r.HostIp.AddressFamily == AddressFamily.InterNetwork || r.HostIp.Equals(IPAddress.IPv6Any))];
            }

            forwarding.Apply(routes);
        }
    }

    /// <summary>Puts the kernel's rules back if someone removed them (the reconciliation's checks call it).</summary>
    public void VerifyKernelRules()
    {
        if (options.KernelForwarding)
        {
            forwarding?.Verify();
        }
    }

    private void ApplyListeners(string project, IReadOnlyDictionary<string, IReadOnlyList<PortRegistration>> ports)
    {
        lock (_gate)
        {
            var wanted = ports.SelectMany(s => s.Value.Select(p => (Service: s.Key, Port: p))).ToList();
            foreach (var (service, port) in wanted)
            {
                if (_listeners.TryGetValue((port.HostIp, port.HostPort), out var existing) && (existing.Project != project || existing.Service != service))
                {
                    throw new DsoException($"{port.Where}: host port {port.HostPort} is already proxied for {existing.Project}/{existing.Service}");
                }
            }

            var started = new List<ProxyListener>();
            try
            {
                foreach (var (service, port) in wanted)
                {
                    if (_listeners.TryGetValue((port.HostIp, port.HostPort), out var existing) && existing.Port.ContainerPort == port.ContainerPort)
                    {
                        continue;
                    }

                    existing?.Dispose();
                    _listeners.Remove((port.HostIp, port.HostPort));
                    var listener = ProxyListener.Start(project, service, port, BackendsOf(project, service), options, metrics, log);
                    started.Add(listener);
                    _listeners[(port.HostIp, port.HostPort)] = listener;
                    LogListening(port.HostIp, port.HostPort, project, service, port.ContainerPort);
                }
            }
            catch
            {
                foreach (var listener in started)
                {
                    listener.Dispose();
                    _listeners.Remove((listener.Port.HostIp, listener.Port.HostPort));
                }

                throw;
            }

            var keep = wanted.Select(w => (w.Port.HostIp, w.Port.HostPort)).ToHashSet();
            foreach (var stale in _listeners.Where(l => l.Value.Project == project && !keep.Contains(l.Key)).ToList())
            {
                stale.Value.Dispose();
                _listeners.Remove(stale.Key);
                LogClosed(stale.Key.HostIp, stale.Key.Port, project);
            }
        }
    }

    /// <summary>Closes every listener of a project and forgets its containers.</summary>
    public void Remove(string project) => Apply(project, new Dictionary<string, IReadOnlyList<PortRegistration>>());

    /// <summary>The host ports proxied for a service.</summary>
    public IReadOnlyList<PortRegistration> PortsOf(string project, string service)
    {
        lock (_gate)
        {
            return [.. _listeners.Values.Where(l => l.Project == project && l.Service == service).Select(l => l.Port).OrderBy(p => p.HostPort)];
        }
    }

    public bool Proxies(string project, string service) => PortsOf(project, service).Count > 0;

    public ServiceBackends BackendsOf(string project, string service)
    {
        lock (_gate)
        {
            if (!_services.TryGetValue((project, service), out var backends))
            {
                backends = new ServiceBackends { OnChanged = SyncKernelRules };
                _services[(project, service)] = backends;
            }

            return backends;
        }
    }

    /// <summary>What the engine reports for a service (start-up, reconnects): its running containers.</summary>
    public void Reset(string project, string service, IEnumerable<Backend> running) =>
        BackendsOf(project, service).Replace(running, byRotation: false);

    /// <summary>A managed container started (not a swap's new one, which the rotation routes itself).</summary>
    public void Started(string project, string service, Backend backend) => BackendsOf(project, service).Upsert(backend);

    /// <summary>A managed container stopped or went away.</summary>
    public void Stopped(string project, string service, string containerId) => BackendsOf(project, service).Remove(containerId);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var listener in _listeners.Values)
            {
                listener.Dispose();
            }

            _listeners.Clear();
        }

        // The agent stops: no rule outlives it (a crash leaves them, carrying clients to live
        // containers, and the next start replaces them).
        forwarding?.Dispose();
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "proxy listening on {HostIp}:{Port} for {Project}/{Service} (container port {ContainerPort})")]
    private partial void LogListening(string hostIp, int port, string project, string service, int containerPort);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "proxy closed {HostIp}:{Port} of {Project}")]
    private partial void LogClosed(string hostIp, int port, string project);
}
