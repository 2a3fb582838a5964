using Dso.Injection.Secrets;
using Dso.Native;

namespace Dso.Agent.Hosting;

/// <summary>
/// The agent's RAM directory (spec 4.1): used as is when it is already on tmpfs or ramfs; otherwise
/// (as /run is on some hosts) the agent, as root, mounts a tmpfs there (mode 0700, nosuid, nodev,
/// noexec). It never falls back to disk. The mount stays when the agent stops: running containers
/// still read their secrets from it.
/// </summary>
internal static class SecretsDirectory
{
    public static SecretStore Prepare(string path, Action<string> say)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            var parent = Path.GetDirectoryName(full)!;
            if (!Directory.Exists(parent))
            {
                UnixFiles.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }

            if (UnixFiles.IsRamBacked(parent))
            {
                return SecretStore.Open(full, $"agent.secrets_dir {full}");
            }

            UnixFiles.CreateDirectory(full, UnixFiles.OwnerOnlyDirectory);
        }

        if (!UnixFiles.IsRamBacked(full))
        {
            if (UnixFiles.EffectiveUserId != 0)
            {
                throw new DsoException($"agent.secrets_dir {full} is not on tmpfs or ramfs and only root can mount one there; run the agent as root or point secrets_dir at a tmpfs");
            }

            try
            {
                UnixFiles.MountTmpfs(full, "mode=0700,size=64m");
            }
            catch (IOException e)
            {
                throw new DsoException($"{e.Message}; secrets are never written to disk, so the agent stops here (point agent.secrets_dir at a tmpfs, or give the agent CAP_SYS_ADMIN)");
            }

            say($"mounted a tmpfs on {full} for secrets");
        }

        return SecretStore.Open(full, $"agent.secrets_dir {full}");
    }
}
