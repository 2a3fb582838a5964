namespace Dso.Processes;

/// <summary>
/// Finds the program a bare name means the way a shell does — on PATH, and only there. .NET's
/// process start on Unix looks in the current directory first, so `docker` in a checkout, or
/// `systemctl` in the directory an administrator happens to be in, would run instead; DSO never
/// hands it a bare name. Relative PATH entries (".", "") are skipped for the same reason.
/// </summary>
public static class ProgramPath
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The executable file <paramref name="program"/> names: itself when it has a '/', else the first match on <paramref name="path"/>; null when there is none.</summary>
    public static string? Find(string program, string? path)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return program;
        }

        foreach (var directory in (path ?? DefaultPath).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathRooted(directory))
            {
                continue;
            }

            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Like <see cref="Find"/>, but a program that is not there is an error naming it.</summary>
    public static string Resolve(string program, string? path) =>
        Find(program, path) ?? throw new DsoException($"cannot run '{program}': it is not on PATH ({path ?? DefaultPath}); is it installed?");
}
