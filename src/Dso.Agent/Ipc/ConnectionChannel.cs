using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Ipc;

/// <summary>
/// Tells IPC connections (the Unix socket, with the peer's credentials) from the secret driver's
/// (its own Unix socket, with the peer's credentials too) and from REST ones (TCP).
/// </summary>
internal static class ConnectionChannel
{
    public const string PeerKey = "dso.peer";

    /// <summary>Set on connections accepted on the secret driver's socket.</summary>
    public const string DriverKey = "dso.driver";

    /// <summary>True for a request on the Unix socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsIpc(HttpContext context, out PeerCredentials? peer)
    {
        peer = null;
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.TryGetValue(PeerKey, out var value) || items.ContainsKey(DriverKey))
        {
            return false;
        }

        peer = value as PeerCredentials;
        return true;
    }

    /// <summary>True for a request on the secret driver's socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsDriver(HttpContext context, out PeerCredentials? peer)
    {
        peer = null;
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.ContainsKey(DriverKey))
        {
            return false;
        }

        peer = items.TryGetValue(PeerKey, out var value) ? value as PeerCredentials : null;
        return true;
    }

    public static string Actor(HttpContext context) =>
        IsIpc(context, out var peer) || IsDriver(context, out peer)
            ? peer is null ? "unknown peer" : $"uid {peer.Uid} (pid {peer.Pid})"
            : $"rest {context.Connection.RemoteIpAddress}";
}
