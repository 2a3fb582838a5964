namespace Dso.Configuration;

/// <summary>`proxy:` — the TCP proxy that owns the host ports of rolling services.</summary>
internal sealed class ProxyConfig
{
    [ConfigKey("connect_timeout", "How long the proxy waits for a container to accept a connection before trying another.")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [ConfigKey("forwarding", "`userland` (the agent relays every connection) or `kernel` (nftables NAT rules the agent owns carry connections to the container; the agent's listener stays bound for what NAT leaves to it: IPv6, and a service with no container).", Allowed = ["userland", "kernel"])]
    public string Forwarding { get; set; } = "userland";

    [ConfigKey("backend_wait", "How long a client's new connection is held while no container of the service accepts (a restart), before it is closed.")]
    public TimeSpan BackendWait { get; set; } = TimeSpan.FromSeconds(10);
}
