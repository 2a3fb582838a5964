namespace Dso.Native;

/// <summary>
/// Replaces a file so that a reader sees the old content or the new, never a mix: write a
/// temporary beside it (`PATH.tmp-PID-GUID`), give it its owner and mode, optionally fsync it, rename
/// it over the target, and (when durable) fsync the directory so the rename survives a power cut.
/// The temporary is zeroed and removed if anything fails (it may hold a secret).
/// </summary>
public static class AtomicFile
{
    /// <summary>The prefix of a target's temporaries, for removing those a killed writer left.</summary>
    public static string TemporaryPrefix(string path) => Path.GetFileName(path) + ".tmp-";

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode, bool durable, (uint Uid, uint Gid)? owner = null)
    {
        var temporary = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, UnixCreateMode = UnixFiles.OwnerReadWrite };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                if (durable)
                {
                    stream.Flush(flushToDisk: true);
                }
            }

            if (owner is { } who)
            {
                UnixFiles.Chown(temporary, who.Uid, who.Gid);
            }

            File.SetUnixFileMode(temporary, mode);
            File.Move(temporary, path, overwrite: true);
            if (durable)
            {
                UnixFiles.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            }
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.SetUnixFileMode(temporary, UnixFiles.OwnerReadWrite);
                File.WriteAllBytes(temporary, new byte[content.Length]);
                File.Delete(temporary);
            }
        }
    }
}
