namespace Dso.Native;

/// <summary>Who owns a file and its permission bits (from statx, symlinks not followed).</summary>
public sealed record FileOwnership(uint Uid, uint Gid, UnixFileMode Mode, bool IsSymlink, bool IsDirectory, bool IsRegularFile);
