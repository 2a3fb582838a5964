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
    public const string CurrentLink = "current";

    /// <summary>Service directories are traversable by the container's user (who may not be root) but not listable by others.</summary>
    private const UnixFileMode ServiceDirectoryMode = UnixFiles.OwnerOnlyDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private SecretStore(string root)
    {
        Root = root;
    }

    public string Root { get; }

    /// <summary>
    /// DSO_SECRETS_DIR when set; else the first RAM-backed of $XDG_RUNTIME_DIR/dso,
    /// /run/dso/secrets (root only) and this user's directory in /dev/shm.
    /// </summary>
    public static SecretStore Locate(Func<string, string?> variable) => Locate(variable, StoreLocations.Default);

    /// <summary><see cref="Locate(Func{string, string?})"/> with the system paths it tries given (tests point them at their own).</summary>
    internal static SecretStore Locate(Func<string, string?> variable, StoreLocations locations)
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
            candidates.Add(locations.RootDirectory);
        }

        foreach (var candidate in candidates)
        {
            if (NearestExisting(candidate) is { } existing && UnixFiles.IsRamBacked(existing))
            {
                return Open(candidate, candidate);
            }
        }

        if (Directory.Exists(locations.SharedMemory) && UnixFiles.IsRamBacked(locations.SharedMemory))
        {
            return new SecretStore(SharedMemoryDirectory(locations.SharedMemory, uid));
        }

        candidates.Add(Path.Combine(locations.SharedMemory, $"dso-{uid}"));
        throw new DsoException(
            $"no RAM-backed directory for secrets (tried {string.Join(", ", candidates)}): secrets are never written to disk. " +
            $"Mount a tmpfs and point {SecretsDirectoryVariable} at it: sudo mount -t tmpfs -o size=16m,mode=0700 tmpfs /run/dso/secrets");
    }

    /// <summary>
    /// This user's directory in the shared, world-writable /dev/shm: `dso-UID` when it is ours (or
    /// can be made), else — another user made that name first, to deny us or to point us at a link —
    /// a `dso-UID-RANDOM` directory of ours: the one found (no one else can make a directory owned
    /// by us), or a new one. The name of a squatted directory is never followed.
    /// </summary>
    private static string SharedMemoryDirectory(string sharedMemory, uint uid)
    {
        var preferred = Path.Combine(sharedMemory, $"dso-{uid}");
        var problem = UnixFiles.ClaimPrivateDirectory(preferred, UnixFiles.OwnerOnlyDirectory);
        if (problem is null)
        {
            return preferred;
        }

        var ours = Directory.EnumerateFileSystemEntries(sharedMemory, $"dso-{uid}-*")
            .Order(StringComparer.Ordinal)
            .FirstOrDefault(path => UnixFiles.Ownership(path) is { IsDirectory: true, IsSymlink: false } owner && owner.Uid == uid
                && UnixFiles.ClaimPrivateDirectory(path, UnixFiles.OwnerOnlyDirectory) is null);
        if (ours is not null)
        {
            return ours;
        }

        for (var attempt = 0; attempt < 8; attempt++)
        {
            var fresh = Path.Combine(sharedMemory, $"dso-{uid}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}");
            if (!Path.Exists(fresh) && UnixFiles.ClaimPrivateDirectory(fresh, UnixFiles.OwnerOnlyDirectory) is null)
            {
                return fresh;
            }
        }

        throw new DsoException($"{preferred} cannot hold secrets ({problem}) and no directory of this user could be made beside it; set {SecretsDirectoryVariable} to a tmpfs directory of yours");
    }

    /// <summary>Opens (creating it if need be) a root directory that must be RAM-backed, owned by us, mode 0700, and not a link.</summary>
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

        if (Path.GetDirectoryName(root) is { } parent && !Directory.Exists(parent))
        {
            UnixFiles.CreateDirectory(parent, UnixFiles.OwnerOnlyDirectory);
        }

        if (UnixFiles.ClaimPrivateDirectory(root, UnixFiles.OwnerOnlyDirectory) is { } problem)
        {
            throw new DsoException($"{root} cannot hold secrets safely: {problem}; remove it and run again, or set {SecretsDirectoryVariable} to another tmpfs directory");
        }

        return new SecretStore(root);
    }

    public string ProjectDirectory(string project) => Path.Combine(Root, CheckName(project, "project"));

    public string ServiceDirectory(string project, string service) => Path.Combine(ProjectDirectory(project), CheckName(service, "service"));

    /// <summary>
    /// What containers bind-mount: the service's `current` link to its active generation. A running
    /// container keeps the generation it started with (the kernel resolves the link when it mounts);
    /// one started after a flip gets the new generation. Rotations use that to prepare new values
    /// without touching the containers that still serve the old ones.
    /// </summary>
    public string MountPath(string project, string service) => Path.Combine(ServiceDirectory(project, service), CurrentLink);

    /// <summary>The generation `current` points at (g1, g2, …), or null when there is none.</summary>
    public string? CurrentGeneration(string project, string service) =>
        new FileInfo(MountPath(project, service)).LinkTarget is { } target && IsGeneration(target) ? target : null;

    /// <summary>
    /// Makes the active generation hold exactly <paramref name="files"/> (creating the first one if
    /// there is none): each written atomically, then anything left from an earlier run removed.
    /// Containers that mount it see the new values at once. Returns the mount path.
    /// </summary>
    public string Materialize(string project, string service, IReadOnlyList<SecretFile> files)
    {
        var generation = CurrentGeneration(project, service);
        if (generation is null || !Directory.Exists(Path.Combine(ServiceDirectory(project, service), generation)))
        {
            generation = PrepareGeneration(project, service, files);
            Activate(project, service, generation);
            return MountPath(project, service);
        }

        Fill(Path.Combine(ServiceDirectory(project, service), generation), files);
        return MountPath(project, service);
    }

    /// <summary>Writes <paramref name="files"/> into a new generation without activating it; returns its name.</summary>
    public string PrepareGeneration(string project, string service, IReadOnlyList<SecretFile> files)
    {
        EnsureDirectory(ProjectDirectory(project), UnixFiles.OwnerOnlyDirectory);
        var serviceDirectory = ServiceDirectory(project, service);
        EnsureDirectory(serviceDirectory, ServiceDirectoryMode);
        var next = Generations(project, service).Select(g => int.Parse(g[1..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
        var generation = $"g{next.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        Fill(Path.Combine(serviceDirectory, generation), files);
        return generation;
    }

    /// <summary>Points `current` at <paramref name="generation"/>, atomically (a new link renamed over the old).</summary>
    public void Activate(string project, string service, string generation)
    {
        var serviceDirectory = ServiceDirectory(project, service);
        if (!Directory.Exists(Path.Combine(serviceDirectory, CheckGeneration(generation))))
        {
            throw new DsoException($"generation {generation} of {project}/{service} does not exist");
        }

        var temporary = Path.Combine(serviceDirectory, $".current-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temporary, generation);
        var mount = MountPath(project, service);
        for (var attempt = 0; ; attempt++)
        {
            // After a reboot, the engine may have created `current` as an empty directory when it
            // restarted a container before the secrets were back; a link cannot replace a directory.
            if (Directory.Exists(mount) && new FileInfo(mount).LinkTarget is null && attempt < 5)
            {
                Directory.Delete(mount, recursive: false);
            }

            try
            {
                UnixFiles.Rename(temporary, mount);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Overwrites and removes a generation that is not the active one.</summary>
    public void RemoveGeneration(string project, string service, string generation)
    {
        if (CurrentGeneration(project, service) == CheckGeneration(generation))
        {
            throw new DsoException($"generation {generation} of {project}/{service} is the active one and cannot be removed");
        }

        ShredDirectory(Path.Combine(ServiceDirectory(project, service), generation));
    }

    /// <summary>
    /// Removes every generation but the active one: after start-up recovery no container can be
    /// using another (a swap in progress is the only time two are live). Returns how many went.
    /// </summary>
    public int PruneGenerations(string project, string service)
    {
        var current = CurrentGeneration(project, service);
        var stale = Generations(project, service).Where(g => g != current).ToList();
        foreach (var generation in stale)
        {
            ShredDirectory(Path.Combine(ServiceDirectory(project, service), generation));
        }

        return stale.Count;
    }

    /// <summary>The generations a service has on disk, oldest first.</summary>
    public IReadOnlyList<string> Generations(string project, string service)
    {
        var serviceDirectory = ServiceDirectory(project, service);
        return Directory.Exists(serviceDirectory)
            ? [.. Directory.EnumerateDirectories(serviceDirectory, "g*", new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint })
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(IsGeneration)
                .OrderBy(g => int.Parse(g[1..], System.Globalization.CultureInfo.InvariantCulture))]
            : [];
    }

    private static void Fill(string directory, IReadOnlyList<SecretFile> files)
    {
        EnsureDirectory(directory, ServiceDirectoryMode);
        foreach (var file in files)
        {
            var target = Path.Combine(directory, file.RelativePath);
            EnsureDirectory(Path.GetDirectoryName(target)!, ServiceDirectoryMode);
            WriteAtomically(target, file);
        }

        var keep = files.Select(f => Path.Combine(directory, f.RelativePath)).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Where(f => !keep.Contains(f)))
        {
            Shred(stale);
        }
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

        ShredDirectory(directory);
        return true;
    }

    public bool HasProject(string project) => Directory.Exists(ProjectDirectory(project));

    private static void WriteAtomically(string target, SecretFile file)
    {
        // tmpfs keeps nothing across a power cut, so there is nothing to fsync.
        // Without root (a docker group member in local mode), files meant for a container's root
        // stay the caller's: root in the container reads them anyway (CAP_DAC_OVERRIDE, which
        // containers keep unless cap_drop takes it). Another uid still needs root to give them away.
        var giveAway = file.Uid >= 0 && (file.Uid != UnixFiles.EffectiveUserId || file.Gid != UnixFiles.EffectiveGroupId)
            && !(file.Uid == 0 && UnixFiles.EffectiveUserId != 0);
        var owner = giveAway ? ((uint)file.Uid, (uint)file.Gid) : ((uint, uint)?)null;
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

    /// <summary>Zeroes every file under a directory (links are removed, not followed), then removes it.</summary>
    private static void ShredDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var link in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Where(p => new FileInfo(p).LinkTarget is not null).ToList())
        {
            File.Delete(link);
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", options))
        {
            Shred(file);
        }

        Directory.Delete(directory, recursive: true);
    }

    private static bool IsGeneration(string name) => name.Length > 1 && name[0] == 'g' && name[1..].All(char.IsAsciiDigit);

    private static string CheckGeneration(string name) =>
        IsGeneration(name) ? name : throw new DsoException($"'{name}' is not a secrets generation name");

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
