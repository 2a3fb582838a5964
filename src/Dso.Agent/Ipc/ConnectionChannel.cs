using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Ipc;

/// <summary>
/// Tells IPC connections (the Unix socket, with the peer's credentials) from the secret driver's
/// and the Secrets Engine resolver's (their own Unix sockets, with the peer's credentials too) and
/// from REST ones (TCP).
/// </summary>
internal static class ConnectionChannel
{
    public const string PeerKey = "dso.peer";

    /// <summary>Set on connections accepted on the secret driver's socket.</summary>
    public const string DriverKey = "dso.driver";

    /// <summary>Set on connections accepted on the Secrets Engine resolver's socket.</summary>
    public const string SecretsEngineKey = "dso.secrets-engine";

    /// <summary>True for a request on the Unix socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsIpc(HttpContext context, out PeerCredentials? peer)
    {
        peer = null;
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.TryGetValue(PeerKey, out var value) || items.ContainsKey(DriverKey) || items.ContainsKey(SecretsEngineKey))
        {
            return false;
        }

        peer = value as PeerCredentials;
        return true;
    }

    /// <summary>True for a request on the secret driver's socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsDriver(HttpContext context, out PeerCredentials? peer) => IsMarked(context, DriverKey, out peer);

    /// <summary>True for a request on the Secrets Engine resolver's socket; <paramref name="peer"/> is the kernel's word on who sent it.</summary>
    public static bool IsSecretsEngine(HttpContext context, out PeerCredentials? peer) => IsMarked(context, SecretsEngineKey, out peer);

    public static string Actor(HttpContext context) =>
        IsIpc(context, out var peer) || IsDriver(context, out peer) || IsSecretsEngine(context, out peer)
            ? peer is null ? "unknown peer" : $"uid {peer.Uid} (pid {peer.Pid})"
            : $"rest {context.Connection.RemoteIpAddress}";

    private static bool IsMarked(HttpContext context, string key, out PeerCredentials? peer)
    {
        peer = null;
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.ContainsKey(key))
        {
            return false;
        }

        peer = items.TryGetValue(PeerKey, out var value) ? value as PeerCredentials : null;
        return true;
    }
}
