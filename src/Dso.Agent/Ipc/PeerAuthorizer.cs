namespace Dso.Agent.Ipc;

/// <summary>
/// Admits root and members of the socket group (spec G10). Membership is read per connection from
/// the peer's /proc/PID/status (its primary and supplementary groups as the kernel has them), so
/// a user removed from the group loses access at their next connection.
/// </summary>
internal sealed class PeerAuthorizer(string groupName)
{
    public string GroupName => groupName;

    /// <summary>The group's id from /etc/group, or null when there is no such group.</summary>
    public uint? GroupId { get; } = LookUpGroup(groupName);

    public bool IsAllowed(PeerCredentials? peer, out string reason)
    {
        if (peer is null)
        {
            reason = "the kernel did not report the peer's credentials";
            return false;
        }

        if (peer.Uid == 0)
        {
            reason = "root";
            return true;
        }

        if (GroupId is { } gid && (peer.Gid == gid || SupplementaryGroups(peer.Pid).Contains(gid)))
        {
            reason = $"member of group {groupName}";
            return true;
        }

        reason = GroupId is null
            ? $"uid {peer.Uid} is not root, and group {groupName} does not exist"
            : $"uid {peer.Uid} is neither root nor a member of group {groupName}";
        return false;
    }

    public static uint? LookUpGroup(string name) => Dso.Native.UnixGroups.LookUp(name);

    private static HashSet<uint> SupplementaryGroups(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Groups:", StringComparison.Ordinal));
            return line is null
                ? []
                : [.. line["Groups:".Length..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return [];
        }
    }
}
