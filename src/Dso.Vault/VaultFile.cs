using Dso.Native;

namespace Dso.Vault;

/// <summary>
/// The vault on disk: owner-only permissions checked on every read, writes made atomic and
/// durable (temp file, fsync, rename, fsync of the directory) under an exclusive lock.
/// </summary>
internal sealed class VaultFile(string path)
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;

    public bool Exists => File.Exists(Path);

    /// <summary>Identifies one written version of the file, to notice another process's write.</summary>
    public (long Length, DateTime Modified, UnixFileMode Mode) Identity()
    {
        var info = new FileInfo(Path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc, info.UnixFileMode) : (-1, default, default);
    }

    public byte[] Read()
    {
        if (!File.Exists(Path))
        {
            throw new DsoException($"no vault at {Path}; create one with 'docker dso init' (or point DSO_VAULT at yours)");
        }

        RequireOwnerOnly(Path, "vault");
        var bytes = File.ReadAllBytes(Path);
        if (bytes.Length == 0)
        {
            throw new DsoException($"vault {Path} is empty (0 bytes); it was left untouched: restore it from a backup or remove it and run 'docker dso init'");
        }

        return bytes;
    }

    public FileLock Lock() => FileLock.Acquire(Path + ".lock", LockTimeout, $"vault {Path}");

    /// <summary>Replaces the file with <paramref name="bytes"/>; a reader sees the old or the new file, never a mix. Call under <see cref="Lock"/>.</summary>
    public void WriteAtomically(byte[] bytes)
    {
        RemoveStaleTemporaries();
        AtomicFile.Write(Path, bytes, UnixFiles.OwnerReadWrite, durable: true);
    }

    public void EnsureDirectory()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            UnixFiles.CreateDirectory(Directory, UnixFiles.OwnerOnlyDirectory);
        }
    }

    /// <summary>Refuses a key or vault file that group or others may read or write.</summary>
    public static void RequireOwnerOnly(string path, string what)
    {
        var mode = File.GetUnixFileMode(path);
        if ((mode & UnixFiles.GroupOrOther) != 0)
        {
            throw new DsoException($"{what} file {path} is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run: chmod 600 {path}");
        }
    }

    // Only the lock holder writes temporaries, so any left while we hold it belong to a writer that died.
    private void RemoveStaleTemporaries()
    {
        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, AtomicFile.TemporaryPrefix(Path) + "*"))
        {
            File.Delete(stale);
        }
    }
}
