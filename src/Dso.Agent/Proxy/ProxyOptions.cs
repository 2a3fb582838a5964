using Dso.Configuration;

namespace Dso.Agent.Proxy;

/// <summary>The proxy's settings, from dso.yaml's `proxy:` (defaults in <see cref="ProxyConfig"/>).</summary>
internal sealed record ProxyOptions(TimeSpan ConnectTimeout, TimeSpan BackendWait, bool KernelForwarding = false)
{
    /// <summary>Per direction of each connection; the size Docker's own userland proxy copies with.</summary>
    public const int BufferSize = 32 * 1024;

    public static ProxyOptions From(ProxyConfig config) => new(config.ConnectTimeout, config.BackendWait, config.Forwarding == "kernel");
}
