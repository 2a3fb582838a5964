using Dso.Native;

namespace Dso.Agent.Hosting;

/// <summary>
/// The agent runs as root and acts on its dso.yaml: it starts the commands `type: plugin` providers
/// name, sends provider credentials to the endpoints it names, reads `file` providers' paths and
/// writes where `audit.path` points. So when it runs as root, the file and its directory must be
/// root's and writable by no one else — no other user, no group but root's (the original
/// project's 0664 root:dso would give every member of `dso` root); anything else is refused, at
/// start and on reload.
/// </summary>
internal static class ConfigFileSafety
{
    /// <summary>Why <paramref name="path"/> is not safe for a root agent to act on, or null (also null when the agent is not root).</summary>
    public static string? Problem(string path)
    {
        if (UnixFiles.EffectiveUserId != 0)
        {
            return null;
        }

        var full = Path.GetFullPath(path);
        foreach (var (what, target) in new[] { ("file", full), ("directory", Path.GetDirectoryName(full) ?? "/") })
        {
            FileOwnership owner;
            try
            {
                owner = UnixFiles.Ownership(target);
            }
            catch (IOException)
            {
                continue; // A missing file is reported by whoever reads it.
            }

            // Group write counts only for a group other than root's.
            var othersMayWrite = owner.Mode.HasFlag(UnixFileMode.OtherWrite) || (owner.Mode.HasFlag(UnixFileMode.GroupWrite) && owner.Gid != 0);
            if (owner.Uid != 0 || othersMayWrite)
            {
                var mode = Convert.ToString((int)owner.Mode, 8).PadLeft(4, '0');
                return $"{target} ({what}, mode {mode}, owner uid {owner.Uid}) may be changed by someone other than root, and the agent runs as root and starts what dso.yaml names: "
                    + (what == "file" ? $"chown root {target} && chmod 0640 {target}" : $"chown root {target} && chmod go-w {target}");
            }
        }

        return null;
    }
}
