using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Ipc;

/// <summary>Tells IPC connections (the Unix socket, with the peer's credentials) from REST ones (TCP).</summary>
internal static class ConnectionChannel
{
    public const string PeerKey = "dso.peer";

    /// <summary>True for a request on the Unix socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsIpc(HttpContext context, out PeerCredentials? peer)
    {
        peer = null;
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.TryGetValue(PeerKey, out var value))
        {
            return false;
        }

        peer = value as PeerCredentials;
        return true;
    }

    public static string Actor(HttpContext context) =>
        IsIpc(context, out var peer) ? peer is null ? "unknown peer" : $"uid {peer.Uid} (pid {peer.Pid})" : $"rest {context.Connection.RemoteIpAddress}";
}
