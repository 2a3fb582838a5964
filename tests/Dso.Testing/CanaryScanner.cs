using System.Text;

namespace Dso.Testing;

/// <summary>
/// Searches file trees for a secret planted by a test — raw, hex (both cases) and base64 at each of
/// its three possible alignments inside a longer encoded blob. Symlinks, sockets and devices are
/// not followed or read; files that vanish while scanning are skipped.
/// </summary>
public static class CanaryScanner
{
    public static IReadOnlyList<byte[]> Forms(string canary)
    {
        var raw = Encoding.UTF8.GetBytes(canary);
        var forms = new List<byte[]>
        {
            raw,
            Encoding.ASCII.GetBytes(Convert.ToHexStringLower(raw)),
            Encoding.ASCII.GetBytes(Convert.ToHexString(raw)),
        };
        if (Uri.EscapeDataString(canary) is var escaped && escaped != canary)
        {
            forms.Add(Encoding.ASCII.GetBytes(escaped));
        }

        for (var shift = 0; shift < 3; shift++)
        {
            // Encode with `shift` leading bytes, then keep only the characters that depend on the
            // canary alone, so the form matches wherever the canary sits in an encoded stream.
            var encoded = Convert.ToBase64String([.. new byte[shift], .. raw]);
            var skip = shift == 0 ? 0 : 4;
            var keep = ((shift + raw.Length) / 3 * 4) - skip;
            if (keep > 8)
            {
                forms.Add(Encoding.ASCII.GetBytes(encoded.Substring(skip, keep)));
            }
        }

        return forms;
    }

    /// <summary>True when <paramref name="data"/> holds a form (raw, hex, base64, URL-encoded) of <paramref name="canary"/>.</summary>
    public static bool Holds(ReadOnlySpan<byte> data, string canary)
    {
        foreach (var form in Forms(canary))
        {
            if (data.IndexOf(form) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>statfs types of file systems whose files are not data: proc, sysfs, devpts, debugfs, tracefs, securityfs, cgroup, cgroup2, bpf.</summary>
    private static readonly HashSet<long> PseudoFileSystems = [0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0xcafe4a11];

    /// <summary>statfs types of file systems in RAM: tmpfs, ramfs (what a running task's secrets are mounted on).</summary>
    private static readonly HashSet<long> RamFileSystems = [0x01021994, 0x858458f6];

    /// <summary>Every file under <paramref name="roots"/> that holds a form of <paramref name="canary"/>; with <paramref name="diskOnly"/>, files in RAM are passed over.</summary>
    public static List<string> FindIn(IEnumerable<string> roots, string canary, bool diskOnly = false)
    {
        var forms = Forms(canary);
        var hits = new List<string>();
        foreach (var root in roots.Where(Directory.Exists))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint, ReturnSpecialDirectories = false };
            foreach (var file in Directory.EnumerateFiles(root, "*", options))
            {
                if ((!diskOnly || !InRam(file)) && Contains(file, forms))
                {
                    hits.Add(file);
                }
            }
        }

        return hits;
    }

    private static bool InRam(string path)
    {
        try
        {
            return RamFileSystems.Contains(Dso.Native.UnixFiles.FileSystemType(path));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool Contains(string path, IReadOnlyList<byte[]> forms)
    {
        try
        {
            // proc and sysfs files look regular but are not data: /proc/kmsg blocks a read forever
            // (a chroot under /tmp with its /proc mounted is enough to meet one).
            if (!Dso.Native.UnixFiles.Ownership(path).IsRegularFile || PseudoFileSystems.Contains(Dso.Native.UnixFiles.FileSystemType(path)))
            {
                return false;
            }

            using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, Options = FileOptions.None });
            if (!stream.CanSeek)
            {
                return false;
            }

            var longest = forms.Max(f => f.Length);
            var buffer = new byte[(1 << 20) + longest];
            var carried = 0;
            int read;
            while ((read = stream.Read(buffer, carried, buffer.Length - carried)) > 0)
            {
                var span = buffer.AsSpan(0, carried + read);
                foreach (var form in forms)
                {
                    if (span.IndexOf(form) >= 0)
                    {
                        return true;
                    }
                }

                carried = Math.Min(longest - 1, span.Length);
                span[^carried..].CopyTo(buffer);
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
