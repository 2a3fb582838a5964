using System.Net.Sockets;
using Dso.Native;

namespace Dso.Agent.Ipc;

/// <summary>
/// The IPC socket file: a stale one (no agent answering) is removed, a live one means another agent
/// runs; once bound it becomes 0660 root:GROUP, or 0600 with a warning when the group does not exist.
/// </summary>
internal static class AgentSocket
{
    /// <param name="path">The socket's path.</param>
    /// <param name="key">The dso.yaml key that sets it (named in errors).</param>
    /// <param name="ownerOnly">Make a missing directory 0700 (Docker's plugin directory, as the engine makes it) instead of 0755.</param>
    public static void PrepareForBind(string path, string key = "agent.socket", bool ownerOnly = false)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            UnixFiles.CreateDirectory(directory, ownerOnly
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return;
        }

        var what = UnixFiles.Ownership(path);
        if (what.IsDirectory || what.IsRegularFile || what.IsSymlink)
        {
            throw new DsoException($"{path} exists and is not a socket; remove it or set {key} to another path");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }

        throw new DsoException($"another agent is already listening on {path}; stop it first (systemctl stop dso-agent), or set {key} to another path");
    }

    /// <summary>Sets the socket's owner and mode; returns a warning when it had to fall back to 0600.</summary>
    public static string? Secure(string path, PeerAuthorizer authorizer)
    {
        if (authorizer.GroupId is { } gid)
        {
            UnixFiles.Chown(path, 0, gid);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            return null;
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return $"group {authorizer.GroupName} does not exist, so the socket {path} is 0600 (root only); create it with 'docker dso system install' or groupadd {authorizer.GroupName}";
    }
}
