using System.Text;
using Dso.Launching;

namespace Dso.Launcher;

/// <summary>
/// What dso-init will execve: the program, its arguments, and the environment with every
/// `dso://` reference replaced by its value and every `dsofile://` reference by its file's path.
/// Everything else in the environment passes through byte for byte.
/// </summary>
internal sealed record LaunchPlan(string Program, IReadOnlyList<byte[]> Arguments, IReadOnlyList<byte[]> Environment)
{
    public const string DefaultDirectory = "/run/secrets/dso";

    private static readonly byte[] EnvScheme = "dso://"u8.ToArray();
    private static readonly byte[] FileScheme = "dsofile://"u8.ToArray();

    /// <summary>Builds the plan from dso-init's own arguments (`[--dir DIR] [--] PROGRAM ARGS…`) and environment.</summary>
    public static LaunchPlan Create(IReadOnlyList<string> args, IReadOnlyList<byte[]> environment)
    {
        var directory = DefaultDirectory;
        var index = 0;
        if (index + 1 < args.Count && args[index] == "--dir")
        {
            directory = args[index + 1];
            index += 2;
        }

        if (index < args.Count && args[index] == "--")
        {
            index++;
        }

        if (index >= args.Count)
        {
            throw new LaunchException("no program to run: the image has no entrypoint or command and the compose file gives none");
        }

        var arguments = args.Skip(index).Select(Encoding.UTF8.GetBytes).ToList();
        return new LaunchPlan(args[index], arguments, Resolve(environment, directory));
    }

    private static List<byte[]> Resolve(IReadOnlyList<byte[]> environment, string directory)
    {
        List<LauncherManifest.Entry>? manifest = null;
        var result = new List<byte[]>(environment.Count);
        foreach (var entry in environment)
        {
            var equals = Array.IndexOf(entry, (byte)'=');
            var value = equals < 0 ? [] : entry.AsSpan(equals + 1);
            if (equals <= 0 || !(value.StartsWith(EnvScheme) || value.StartsWith(FileScheme)))
            {
                result.Add(entry);
                continue;
            }

            var name = Encoding.UTF8.GetString(entry, 0, equals);
            var reference = Encoding.UTF8.GetString(value);
            manifest ??= ReadManifest(directory);
            var delivered = manifest.Find(m => m.Variable == name && m.Reference == reference)
                ?? throw new LaunchException($"{name} refers to {reference}, which was not delivered to this container; run 'docker dso up' again");
            var path = Path.Combine(directory, delivered.File);
            result.Add(delivered.Kind == LauncherManifest.EntryKind.Env
                ? [.. Encoding.UTF8.GetBytes(name + "="), .. ReadValue(name, path)]
                : RequireFile(name, path));
        }

        return result;
    }

    private static List<LauncherManifest.Entry> ReadManifest(string directory)
    {
        var path = Path.Combine(directory, LauncherManifest.FileName);
        try
        {
            return LauncherManifest.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LaunchException($"{directory} holds no secrets manifest: start this service with 'docker dso up' (after a reboot, the agent restores the secrets)");
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new LaunchException($"cannot read {path}: {e.Message}");
        }
    }

    private static byte[] ReadValue(string name, string path)
    {
        byte[] value;
        try
        {
            value = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LaunchException($"the value of {name} is missing ({path}); run 'docker dso up' again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LaunchException($"cannot read the value of {name} from {path}: permission denied or unreadable; check the uid the service runs as");
        }

        return Array.IndexOf(value, (byte)0) >= 0
            ? throw new LaunchException($"the value of {name} contains a NUL byte, which an environment variable cannot hold; use a dsofile:// reference instead")
            : value;
    }

    private static byte[] RequireFile(string name, string path) =>
        File.Exists(path)
            ? Encoding.UTF8.GetBytes($"{name}={path}")
            : throw new LaunchException($"the file for {name} is missing ({path}); run 'docker dso up' again");
}
