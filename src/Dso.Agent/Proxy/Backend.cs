using System.Net;

namespace Dso.Agent.Proxy;

/// <summary>A container the proxy may forward to: its id and its address on its network.</summary>
internal sealed record Backend(string ContainerId, IPAddress Address)
{
    public string ShortId => ContainerId.Length > 12 ? ContainerId[..12] : ContainerId;
}
