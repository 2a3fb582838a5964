using System.Formats.Tar;
using Dso.Processes;

namespace Dso.Testing;

/// <summary>
/// Builds the images tests run, with `docker import` (nothing can be pulled): a busybox image from
/// Debian's busybox-static and an empty scratch image. Built once per machine state: an image that
/// already exists is reused, and a file lock keeps parallel test assemblies from racing.
/// </summary>
public static class TestImages
{
    public const string Busybox = "dso-test/busybox:1";
    public const string Scratch = "dso-test/scratch:1";

    /// <summary>The NativeAOT static test application alone in an empty image (no shell, no libc), at /app.</summary>
    public static string App => AppTag.Value;

    private static readonly Lazy<string> AppTag = new(() => $"dso-test/app:{NativeArtifacts.ContentTag(NativeArtifacts.TestApp)}");
    public const string TestLabel = "dso.test";

    private const string BusyboxBinary = "/bin/busybox";
    private static readonly string[] RootDirectories = ["bin/", "sbin/", "usr/", "usr/bin/", "usr/sbin/", "tmp/", "etc/", "proc/", "sys/", "dev/", "run/"];
    private static readonly string LockPath = Path.Combine(Path.GetTempPath(), "dso-test-images.lock");

    public static async Task EnsureBuiltAsync(CancellationToken cancellationToken = default)
    {
        using var gate = await AcquireLockAsync(cancellationToken);
        if (!await ExistsAsync(Busybox, cancellationToken))
        {
            await ImportAsync(Busybox, BuildBusyboxTar(), ["CMD [\"/bin/sh\"]"], cancellationToken);
        }

        if (!await ExistsAsync(Scratch, cancellationToken))
        {
            await ImportAsync(Scratch, BuildTar(_ => { }), [], cancellationToken);
        }

        if (!await ExistsAsync(App, cancellationToken))
        {
            var app = File.ReadAllBytes(NativeArtifacts.TestApp);
            await ImportAsync(App, BuildTar(w => AddFile(w, "app", app, (UnixFileMode)Convert.ToInt32("755", 8))), ["ENTRYPOINT [\"/app\"]"], cancellationToken);
        }
    }

    /// <summary>The busybox root filesystem imported again under another name with other image settings (ENTRYPOINT, CMD, USER…).</summary>
    public static async Task<string> BusyboxVariantAsync(string name, IReadOnlyList<string> changes, CancellationToken cancellationToken = default)
    {
        using var gate = await AcquireLockAsync(cancellationToken);
        if (!await ExistsAsync(name, cancellationToken))
        {
            await ImportAsync(name, BuildBusyboxTar(), changes, cancellationToken);
        }

        return name;
    }

    /// <summary>Imports a root filesystem given as a tar into an image named <paramref name="name"/>.</summary>
    public static async Task ImportAsync(string name, byte[] rootfsTar, IReadOnlyList<string> changes, CancellationToken cancellationToken = default)
    {
        var args = new List<string> { "import" };
        foreach (var change in changes.Append($"LABEL {TestLabel}=true"))
        {
            args.Add("--change");
            args.Add(change);
        }

        args.AddRange(["-", name]);
        var result = await ChildProcess.RunAsync("docker", args, new ChildProcessOptions { StandardInput = rootfsTar, Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"docker import {name} failed: {result.StandardError}");
        }
    }

    /// <summary>A tar built in memory by <paramref name="fill"/>.</summary>
    public static byte[] BuildTar(Action<TarWriter> fill)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            fill(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Adds a regular file with the given mode to a tar.</summary>
    public static void AddFile(TarWriter writer, string path, byte[] content, UnixFileMode mode)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = mode, DataStream = new MemoryStream(content) };
        writer.WriteEntry(entry);
    }

    private static byte[] BuildBusyboxTar()
    {
        if (!File.Exists(BusyboxBinary))
        {
            throw new InvalidOperationException($"{BusyboxBinary} is missing: install Debian's busybox-static (scripts/test.sh does)");
        }

        var applets = ListApplets();
        return BuildTar(writer =>
        {
            foreach (var dir in RootDirectories)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir) { Mode = (UnixFileMode)Convert.ToInt32("755", 8) });
            }

            AddFile(writer, "bin/busybox", File.ReadAllBytes(BusyboxBinary), (UnixFileMode)Convert.ToInt32("755", 8));
            AddFile(writer, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"u8.ToArray(), (UnixFileMode)Convert.ToInt32("644", 8));
            AddFile(writer, "etc/group", "root:x:0:\nnogroup:x:65534:\n"u8.ToArray(), (UnixFileMode)Convert.ToInt32("644", 8));
            foreach (var applet in applets.Where(a => a != "bin/busybox"))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, applet) { LinkName = "/bin/busybox" });
            }
        });
    }

    private static List<string> ListApplets()
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(BusyboxBinary, "--list-full") { RedirectStandardOutput = true })!;
        var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        process.WaitForExit();
        return [.. lines.Distinct(StringComparer.Ordinal)];
    }

    private static async Task<bool> ExistsAsync(string image, CancellationToken cancellationToken)
    {
        var result = await ChildProcess.RunAsync("docker", ["image", "inspect", "--format", "{{.Id}}", image], null, cancellationToken);
        return result.Succeeded;
    }

    private static async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }
}
