using System.Runtime.InteropServices;

namespace Dso.Native;

/// <summary>File-system operations that need libc: directory fsync, ownership, statfs, ids.</summary>
public static class UnixFiles
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>tmpfs, from linux/magic.h.</summary>
    public const long TmpfsMagic = 0x01021994;

    /// <summary>ramfs, from linux/magic.h.</summary>
    public const long RamfsMagic = 0x858458f6;

    public static uint EffectiveUserId => Libc.GetEffectiveUserId();

    /// <summary>Sets the process umask and returns the previous one.</summary>
    public static uint SetUmask(uint mask) => Libc.Umask(mask);

    public static uint EffectiveGroupId => Libc.GetEffectiveGroupId();

    /// <summary>
    /// Flushes a directory's entries to disk, so a rename inside it survives a power cut
    /// (the file's own fsync does not cover the directory entry).
    /// </summary>
    public static void FsyncDirectory(string path)
    {
        var fd = Libc.Open(path, Libc.ORdOnly | Libc.ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} to sync it: {LastError()}");
        }

        try
        {
            if (Libc.Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync directory {path}: {LastError()}");
            }
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    public static void Chown(string path, uint uid, uint gid)
    {
        if (Libc.Chown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot change the owner of {path} to {uid}:{gid}: {LastError()}");
        }
    }

    /// <summary>The f_type of the file system holding <paramref name="path"/> (statfs(2)).</summary>
    public static unsafe long FileSystemType(string path)
    {
        // struct statfs is 120 bytes on x86_64 and aarch64; f_type is its first field, a long.
        var buffer = stackalloc byte[256];
        if (Libc.StatFs(path, buffer) != 0)
        {
            throw new IOException($"cannot statfs {path}: {LastError()}");
        }

        return *(long*)buffer & 0xffffffffL;
    }

    /// <summary>Owner, group and mode of <paramref name="path"/> itself (a symlink is not followed).</summary>
    public static unsafe FileOwnership Ownership(string path)
    {
        // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28; 256 bytes in all.
        var buffer = stackalloc byte[256];
        if (Libc.Statx(Libc.AtFdCwd, path, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, buffer) != 0)
        {
            throw new IOException($"cannot stat {path}: {LastError()}");
        }

        var mode = *(ushort*)(buffer + 28);
        return new FileOwnership(*(uint*)(buffer + 20), *(uint*)(buffer + 24), (UnixFileMode)(mode & 0xfff), (mode & 0xf000) == 0xa000, (mode & 0xf000) == 0x4000, (mode & 0xf000) == 0x8000);
    }

    /// <summary>rename(2): atomically replaces <paramref name="to"/>, whatever it is (a symbolic link to a directory included).</summary>
    public static void Rename(string from, string to)
    {
        if (Libc.Rename(from, to) != 0)
        {
            throw new IOException($"cannot rename {from} to {to}: {LastError()}");
        }
    }

    /// <summary>Mounts a tmpfs (nosuid, nodev, noexec) on <paramref name="target"/>; root only.</summary>
    public static void MountTmpfs(string target, string options)
    {
        if (Libc.Mount("tmpfs", target, "tmpfs", Libc.MsNoSuid | Libc.MsNoDev | Libc.MsNoExec, options) != 0)
        {
            throw new IOException($"cannot mount a tmpfs on {target}: {LastError()}");
        }
    }

    public static bool IsRamBacked(string path)
    {
        var type = FileSystemType(path);
        return type is TmpfsMagic or RamfsMagic;
    }

    /// <summary>
    /// Makes <paramref name="path"/> a directory of this user with exactly <paramref name="mode"/>,
    /// on a RAM-backed file system, deciding everything through one file descriptor opened without
    /// following links: mkdir (an existing entry is fine), open with O_NOFOLLOW|O_DIRECTORY, fstat,
    /// fchmod, fstatfs. Between the checks and the change, no one can swap the path for a link.
    /// Returns why the path cannot be used (another owner, a link, not a directory, on disk), or null.
    /// </summary>
    public static unsafe string? ClaimPrivateDirectory(string path, UnixFileMode mode)
    {
        if (Libc.Mkdir(path, (uint)mode) != 0 && Marshal.GetLastPInvokeError() != Libc.EExist)
        {
            return $"cannot create it: {LastError()}";
        }

        var fd = Libc.Open(path, Libc.ORdOnly | Libc.ODirectory | Libc.ONoFollow | Libc.OCloExec);
        if (fd < 0)
        {
            var what = Ownership(path);
            return what.IsSymlink ? "it is a symbolic link" : what.IsDirectory ? $"it cannot be opened: {LastError()}" : "it is not a directory";
        }

        try
        {
            var buffer = stackalloc byte[256];
            if (Libc.Statx(fd, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, buffer) != 0)
            {
                return $"cannot stat it: {LastError()}";
            }

            var owner = *(uint*)(buffer + 20);
            var current = (UnixFileMode)(*(ushort*)(buffer + 28) & 0xfff);
            if (owner != EffectiveUserId)
            {
                return $"it is owned by uid {owner}";
            }

            if (current != mode && Libc.FChmod(fd, (uint)mode) != 0)
            {
                return $"cannot set its mode: {LastError()}";
            }

            if (Libc.FStatFs(fd, buffer) != 0)
            {
                return $"cannot statfs it: {LastError()}";
            }

            var type = *(long*)buffer & 0xffffffffL;
            return type is TmpfsMagic or RamfsMagic ? null : $"it is on a disk file system (statfs type 0x{type:x}), not tmpfs or ramfs";
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    /// <summary>Creates a directory (and parents) and forces its mode, which umask cannot widen.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        Directory.CreateDirectory(path, mode);
        File.SetUnixFileMode(path, mode);
    }

    private static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
}
