using Dso.Cli.Commands.SystemService;
using Dso.Native;

namespace Dso.Cli.Tests;

/// <summary>What `system install` accepts as an executable root may run at every boot.</summary>
public sealed class RootOnlyPathTests
{
    [Fact]
    public void RootOnlyPath_TellsWhatAUserCouldReplace()
    {
        // Under /var/lib, whose whole chain is root's (the system temp directory is everyone's).
        var dir = new DirectoryInfo($"/var/lib/dso-rootonly-test-{Guid.NewGuid():N}");
        dir.Create();
        try
        {
            Check(new Root(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Check(Root dir)
    {
        var file = dir.WriteFile("bin/tool", "x");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        Assert.Null(RootOnlyPath.Problem(file));

        File.SetUnixFileMode(dir.Combine("bin"), (UnixFileMode)Convert.ToInt32("775", 8));
        Assert.Equal($"{dir.Combine("bin")} is writable by group 0", RootOnlyPath.Problem(file));
        File.SetUnixFileMode(dir.Combine("bin"), (UnixFileMode)Convert.ToInt32("755", 8));
        UnixFiles.Chown(file, 4321, 0);
        Assert.Equal($"{file} is owned by uid 4321", RootOnlyPath.Problem(file));

        // A root-owned link in a safe place that leads into a user's directory is as unsafe as its target.
        var link = dir.Combine("link");
        File.CreateSymbolicLink(link, file);
        Assert.Equal($"{file} is owned by uid 4321", RootOnlyPath.Problem(link));
        Assert.Equal("/tmp is writable by every user", RootOnlyPath.Problem("/tmp"));
    }

    private sealed record Root(string Path)
    {
        public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

        public string WriteFile(string relative, string content)
        {
            var full = Combine(relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
            return full;
        }
    }
}
