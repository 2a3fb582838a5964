using System.Text;
using Dso.Launching;
using Dso.Testing;

namespace Dso.Launcher.Tests;

public sealed class LaunchPlanTests : IDisposable
{
    private readonly TempDirectory _dir = new("dso-launch-");

    public LaunchPlanTests()
    {
        Directory.CreateDirectory(_dir.Combine(".dso-env"));
        _dir.WriteFile(".dso-env/0", "s3cret\nwith newline");
        _dir.WriteFile("tls.pem", "KEY");
        _dir.WriteFile(LauncherManifest.FileName, LauncherManifest.Write([
            new(LauncherManifest.EntryKind.Env, "DB_PASSWORD", "dso://app/db", ".dso-env/0"),
            new(LauncherManifest.EntryKind.File, "TLS_FILE", "dsofile://app/tls?name=tls.pem", "tls.pem"),
        ]));
    }

    [Fact]
    public void References_AreReplaced_EverythingElsePassesThroughByteForByte()
    {
        byte[] odd = [.. "ODD="u8.ToArray(), 0xff, 0xfe];
        var plan = Plan(["--dir", _dir.Path, "--", "app", "--flag"], "DB_PASSWORD=dso://app/db", "TLS_FILE=dsofile://app/tls?name=tls.pem", "PATH=/bin", odd);

        Assert.Equal("app", plan.Program);
        Assert.Equal(["app", "--flag"], plan.Arguments.Select(Encoding.UTF8.GetString));
        Assert.Equal($"DB_PASSWORD=s3cret\nwith newline", Encoding.UTF8.GetString(plan.Environment[0]));
        Assert.Equal($"TLS_FILE={_dir.Path}/tls.pem", Encoding.UTF8.GetString(plan.Environment[1]));
        Assert.Equal("PATH=/bin", Encoding.UTF8.GetString(plan.Environment[2]));
        Assert.Equal(odd, plan.Environment[3]);
    }

    [Fact]
    public void WithoutReferences_TheManifestIsNotEvenRead()
    {
        var plan = LaunchPlan.Create(["--dir", "/nonexistent", "sh"], [Encoding.UTF8.GetBytes("A=1")]);

        Assert.Equal("sh", plan.Program);
    }

    [Fact]
    public void AReferenceThatWasNotDelivered_IsRefused()
    {
        var error = Assert.Throws<LaunchException>(() => Plan(["--dir", _dir.Path, "app"], "DB_PASSWORD=dso://app/other"));

        Assert.Equal("DB_PASSWORD refers to dso://app/other, which was not delivered to this container; run 'docker dso up' again", error.Message);
    }

    [Fact]
    public void AMissingManifest_SaysToStartWithDsoUp()
    {
        var error = Assert.Throws<LaunchException>(() => Plan(["--dir", _dir.Combine("nope"), "app"], "X=dso://a/b"));

        Assert.Contains("holds no secrets manifest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AValueWithANulByte_CannotBeAnEnvironmentVariable()
    {
        File.WriteAllBytes(_dir.Combine(".dso-env/0"), [0x61, 0x00, 0x62]);

        var error = Assert.Throws<LaunchException>(() => Plan(["--dir", _dir.Path, "app"], "DB_PASSWORD=dso://app/db"));

        Assert.Contains("NUL byte", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a\0b", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoProgram_IsAClearError() =>
        Assert.Contains("no program to run", Assert.Throws<LaunchException>(() => Plan(["--dir", _dir.Path, "--"])).Message, StringComparison.Ordinal);

    [Fact]
    public void Programs_AreFoundOnThePathOfTheNewEnvironment()
    {
        Assert.Equal("/bin/sh", Exec.Locate("sh", [Encoding.UTF8.GetBytes("PATH=/nonexistent:/bin")]));
        Assert.Equal("./relative", Exec.Locate("./relative", []));
        Assert.Contains("not found on PATH", Assert.Throws<LaunchException>(() => Exec.Locate("no-such-program-x", [Encoding.UTF8.GetBytes("PATH=/bin")])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestFormat_RoundTrips_AndRejectsUnsafePaths()
    {
        var entries = new List<LauncherManifest.Entry> { new(LauncherManifest.EntryKind.Env, "A", "dso://x", ".dso-env/0") };

        Assert.Equal(entries, LauncherManifest.Parse(LauncherManifest.Write(entries)));
        Assert.Throws<FormatException>(() => LauncherManifest.Write([new(LauncherManifest.EntryKind.File, "A", "dso://x", "../etc/passwd")]));
        Assert.Throws<FormatException>(() => LauncherManifest.Parse("dso-init manifest 1\nfile\tA\tdso://x\t/etc/passwd\n"));
        Assert.Throws<FormatException>(() => LauncherManifest.Parse("something else\n"));
    }

    public void Dispose() => _dir.Dispose();

    private static LaunchPlan Plan(string[] args, params object[] environment) =>
        LaunchPlan.Create(args, [.. environment.Select(e => e as byte[] ?? Encoding.UTF8.GetBytes((string)e))]);
}
