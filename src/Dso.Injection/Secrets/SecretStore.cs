using Dso.Native;

namespace Dso.Injection.Secrets;

/// <summary>
/// The RAM-backed directory secrets are materialized in (spec 4.1): `ROOT/PROJECT/SERVICE/`,
/// bind-mounted read-only into the service's containers. The root is checked with statfs to be
/// tmpfs or ramfs before anything is written — never a disk fallback — and must be a real
/// directory owned by us, mode 0700 (a world-writable parent such as /dev/shm could otherwise
/// hand us someone else's directory). Files are replaced atomically: write a temporary in the
/// same directory, set owner and mode, rename.
/// </summary>
internal sealed class SecretStore
{
    public const string SecretsDirectoryVariable = "DSO_SECRETS_DIR";

    /// <summary>Service directories are traversable by the container's user (who may not be root) but not listable by others.</summary>
    private const UnixFileMode ServiceDirectoryMode = UnixFiles.OwnerOnlyDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private SecretStore(string root)
    {
        Root = root;
    }

    public string Root { get; }

    /// <summary>
    /// DSO_SECRETS_DIR when set; else the first RAM-backed of $XDG_RUNTIME_DIR/dso,
    /// /run/dso/secrets (root only) and /dev/shm/dso-UID.
    /// </summary>
    public static SecretStore Locate(Func<string, string?> variable)
    {
        if (variable(SecretsDirectoryVariable) is { } configured)
        {
            return Open(Path.GetFullPath(configured), $"{SecretsDirectoryVariable}={configured}");
        }

        var uid = UnixFiles.EffectiveUserId;
        var candidates = new List<string>();
        if (variable("XDG_RUNTIME_DIR") is { } runtime)
        {
            candidates.Add(Path.Combine(runtime, "dso"));
        }

        if (uid == 0)
        {
            candidates.Add("/run/dso/secrets");
        }

        candidates.Add($"/dev/shm/dso-{uid}");
        foreach (var candidate in candidates)
        {
            if (NearestExisting(candidate) is { } existing && UnixFiles.IsRamBacked(existing))
            {
                return Open(candidate, candidate);
            }
        }

        throw new DsoException(
            $"no RAM-backed directory for secrets (tried {string.Join(", ", candidates)}): secrets are never written to disk. " +
            $"Mount a tmpfs and point {SecretsDirectoryVariable} at it: sudo mount -t tmpfs -o size=16m,mode=0700 tmpfs /run/dso/secrets");
    }

    /// <summary>Opens (creating it if need be) a root directory that must be RAM-backed.</summary>
    public static SecretStore Open(string root, string describedAs)
    {
        var existing = NearestExisting(root)
            ?? throw new DsoException($"{describedAs}: no part of the path exists");
        if (!UnixFiles.IsRamBacked(existing))
        {
            throw new DsoException(
                $"{describedAs} is on a disk file system (statfs type 0x{UnixFiles.FileSystemType(existing):x}), not tmpfs or ramfs: secrets must never reach a disk. " +
                $"Mount one there (sudo mount -t tmpfs -o size=16m,mode=0700 tmpfs {root}) or point {SecretsDirectoryVariable} at a tmpfs such as /dev/shm");
        }

        if (!Directory.Exists(root))
        {
            UnixFiles.CreateDirectory(root, UnixFiles.OwnerOnlyDirectory);
        }

        var owner = UnixFiles.Ownership(root);
        if (owner.IsSymlink || !owner.IsDirectory || owner.Uid != UnixFiles.EffectiveUserId)
        {
            throw new DsoException(
                $"{root} exists but is {(owner.IsSymlink ? "a symbolic link" : owner.IsDirectory ? $"owned by uid {owner.Uid}" : "not a directory")}, so it cannot hold secrets safely; remove it and run again");
        }

        if ((owner.Mode & UnixFiles.GroupOrOther) != 0)
        {
            File.SetUnixFileMode(root, UnixFiles.OwnerOnlyDirectory);
        }

        if (!UnixFiles.IsRamBacked(root))
        {
            throw new DsoException($"{describedAs} is not on tmpfs or ramfs; secrets must never reach a disk");
        }

        return new SecretStore(root);
    }

    public string ProjectDirectory(string project) => Path.Combine(Root, CheckName(project, "project"));

    public string ServiceDirectory(string project, string service) => Path.Combine(ProjectDirectory(project), CheckName(service, "service"));

    /// <summary>
    /// Makes the service directory hold exactly <paramref name="files"/>: each written atomically,
    /// then anything left from an earlier run removed.
    /// </summary>
    public string Materialize(string project, string service, IReadOnlyList<SecretFile> files)
    {
        var projectDirectory = ProjectDirectory(project);
        EnsureDirectory(projectDirectory, UnixFiles.OwnerOnlyDirectory);
        var serviceDirectory = ServiceDirectory(project, service);
        EnsureDirectory(serviceDirectory, ServiceDirectoryMode);
        foreach (var file in files)
        {
            var target = Path.Combine(serviceDirectory, file.RelativePath);
            EnsureDirectory(Path.GetDirectoryName(target)!, ServiceDirectoryMode);
            WriteAtomically(target, file);
        }

        var keep = files.Select(f => Path.Combine(serviceDirectory, f.RelativePath)).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateFiles(serviceDirectory, "*", SearchOption.AllDirectories).Where(f => !keep.Contains(f)))
        {
            Shred(stale);
        }

        return serviceDirectory;
    }

    /// <summary>Writes a file that holds no secret (the compose override) under the project, owner-only.</summary>
    public string WritePrivate(string project, string name, string content)
    {
        var projectDirectory = ProjectDirectory(project);
        EnsureDirectory(projectDirectory, UnixFiles.OwnerOnlyDirectory);
        var path = Path.Combine(projectDirectory, name);
        WriteAtomically(path, new SecretFile(name, System.Text.Encoding.UTF8.GetBytes(content), UnixFiles.OwnerReadWrite, -1, -1));
        return path;
    }

    /// <summary>Overwrites and deletes every secret of a project. Returns false when there was nothing.</summary>
    public bool RemoveProject(string project)
    {
        var directory = ProjectDirectory(project);
        if (!Directory.Exists(directory))
        {
            return false;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            Shred(file);
        }

        Directory.Delete(directory, recursive: true);
        return true;
    }

    public bool HasProject(string project) => Directory.Exists(ProjectDirectory(project));

    private static void WriteAtomically(string target, SecretFile file)
    {
        // tmpfs keeps nothing across a power cut, so there is nothing to fsync.
        var owner = file.Uid >= 0 && (file.Uid != UnixFiles.EffectiveUserId || file.Gid != UnixFiles.EffectiveGroupId)
            ? ((uint)file.Uid, (uint)file.Gid)
            : ((uint, uint)?)null;
        try
        {
            AtomicFile.Write(target, file.Content, file.Mode, durable: false, owner);
        }
        catch (IOException) when (owner is not null && UnixFiles.EffectiveUserId != 0)
        {
            throw new DsoException($"cannot make {target} owned by {file.Uid}:{file.Gid}: only root can give files away; run as root, or drop uid=/gid= from the reference");
        }
    }

    /// <summary>Zeroes a file's bytes before unlinking it, so freed tmpfs pages do not keep the value.</summary>
    private static void Shred(string path)
    {
        try
        {
            File.SetUnixFileMode(path, UnixFiles.OwnerReadWrite);
            var length = new FileInfo(path).Length;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                stream.Write(new byte[length]);
            }
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to overwrite (another owner, without root); removing it is what matters.
        }

        File.Delete(path);
    }

    private static void EnsureDirectory(string path, UnixFileMode mode)
    {
        if (!Directory.Exists(path))
        {
            UnixFiles.CreateDirectory(path, mode);
        }
        else if (File.GetUnixFileMode(path) != mode)
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static string CheckName(string name, string what) =>
        name.Length > 0 && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? name
            : throw new DsoException($"'{name}' cannot be used as a {what} name for the secrets directory (letters, digits, '_', '-', '.')");

    private static string? NearestExisting(string path)
    {
        for (var current = path; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (Directory.Exists(current))
            {
                return current;
            }
        }

        return null;
    }
}
