using Dso.Native;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// Whether only root can change what a path leads to: the file and every directory above it owned
/// by root and writable by no group or other (a sticky world-writable directory such as /tmp does
/// not count: anyone may put a file of their own there). Links are judged by where they point too.
/// </summary>
internal static class RootOnlyPath
{
    /// <summary>Why a non-root user could replace what <paramref name="path"/> runs, or null when no one but root can.</summary>
    public static string? Problem(string path)
    {
        var full = Path.GetFullPath(path);
        if (!Path.Exists(full))
        {
            return $"{full} does not exist";
        }

        var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        if (target is not null && target != full)
        {
            return Problem(target) ?? Check(full);
        }

        return Check(full);
    }

    private static string? Check(string full)
    {
        for (var current = full; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            FileOwnership owner;
            try
            {
                owner = UnixFiles.Ownership(current);
            }
            catch (IOException e)
            {
                return e.Message;
            }

            if (owner.Uid != 0)
            {
                return $"{current} is owned by uid {owner.Uid}";
            }

            if (owner.IsSymlink && current != full)
            {
                // A directory reached through a link: what counts is where the link leads.
                if (new DirectoryInfo(current).ResolveLinkTarget(returnFinalTarget: true)?.FullName is { } resolved && Problem(resolved) is { } problem)
                {
                    return problem;
                }
            }
            else if ((owner.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0 && !owner.IsSymlink)
            {
                return $"{current} is writable by {((owner.Mode & UnixFileMode.OtherWrite) != 0 ? "every user" : $"group {owner.Gid}")}";
            }

            if (current == "/")
            {
                break;
            }
        }

        return null;
    }
}
