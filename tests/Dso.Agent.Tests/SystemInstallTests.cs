using Dso.Native;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>`docker dso system install` into a staging root: the units systemd would load, and idempotence.</summary>
public sealed class SystemInstallTests
{
    [Fact]
    public async Task Install_WritesUnitsThatSystemdAccepts_AndRunningItAgainChangesNothing()
    {
        using var root = new TempDirectory("dso-sysroot-");
        // Installed as an administrator would have it: under a directory only root can change (the
        // checkout may be anywhere, /tmp included, and then install would copy it, as the next test shows).
        using var owned = new RootOwnedDirectory();
        var installed = owned.Path;
        File.SetUnixFileMode(installed, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var name in new[] { "docker-dso", "dso-agent", "libsodium.so" })
        {
            File.Copy(Path.Combine(Path.GetDirectoryName(AgentProcess.Cli)!, name), Path.Combine(installed, name));
        }

        var cli = Path.Combine(installed, "docker-dso");
        var first = await ChildProcess.RunAsync(cli, ["system", "install", "--root", root.Path], null, TestContext.Current.CancellationToken);
        var second = await ChildProcess.RunAsync(cli, ["system", "install", "--root", root.Path], null, TestContext.Current.CancellationToken);

        Assert.True(first.Succeeded, first.StandardError);
        var unitDirectory = root.Combine("etc", "systemd", "system");
        var service = await File.ReadAllTextAsync(Path.Combine(unitDirectory, "dso-agent.service"), TestContext.Current.CancellationToken);
        Assert.Contains($"ExecStart={Path.Combine(installed, "dso-agent")} --config /etc/dso/dso.yaml", service, StringComparison.Ordinal);
        Assert.Contains("MemoryDenyWriteExecute=yes", service, StringComparison.Ordinal);
        Assert.Contains("Type=notify", service, StringComparison.Ordinal);
        Assert.Contains("NoNewPrivileges=yes", service, StringComparison.Ordinal);
        Assert.Contains("ProtectSystem=strict", service, StringComparison.Ordinal);
        Assert.Contains("Requires=run-dso-secrets.mount", service, StringComparison.Ordinal);
        Assert.Contains("Type=tmpfs", await File.ReadAllTextAsync(Path.Combine(unitDirectory, "run-dso-secrets.mount"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)Convert.ToInt32("700", 8), File.GetUnixFileMode(root.Combine("var", "lib", "dso")));
        var config = Dso.Configuration.ConfigLoader.Load(root.Combine("etc", "dso", "dso.yaml"), _ => null, root.Path);
        Assert.Equal("/run/dso/secrets", config.Config.Agent.SecretsDirectory);
        Assert.True(second.Succeeded, second.StandardError);
        Assert.Contains($"unchanged: {Path.Combine(unitDirectory, "dso-agent.service")}", second.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(yours)", second.StandardOutput, StringComparison.Ordinal);

        var verify = await ChildProcess.RunAsync("systemd-analyze", ["verify", Path.Combine(unitDirectory, "dso-agent.service"), Path.Combine(unitDirectory, "run-dso-secrets.mount")], null, TestContext.Current.CancellationToken);
        Assert.True(verify.Succeeded, verify.StandardError);
        Assert.DoesNotContain("dso-agent.service:", verify.StandardError, StringComparison.Ordinal);

        var uninstall = await ChildProcess.RunAsync(AgentProcess.Cli, ["system", "uninstall", "--root", root.Path], null, TestContext.Current.CancellationToken);
        Assert.True(uninstall.Succeeded, uninstall.StandardError);
        Assert.False(File.Exists(Path.Combine(unitDirectory, "dso-agent.service")));
        Assert.True(File.Exists(root.Combine("etc", "dso", "dso.yaml")));
    }

    [Fact]
    public async Task Install_FromADirectoryAUserCanWrite_InstallsARootOwnedCopy_AndTheUnitRunsThat()
    {
        using var root = new TempDirectory("dso-sysroot-");
        using var home = new TempDirectory("dso-userlib-");
        // docker-dso as `scripts/install.sh` puts it for a user: under a directory that user owns.
        var userLib = Directory.CreateDirectory(home.Combine("home", "alice", ".local", "lib", "dso")).FullName;
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(AgentProcess.Cli)!))
        {
            File.Copy(file, Path.Combine(userLib, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(userLib, "dso-init"), "launcher bytes");
        UnixFiles.Chown(home.Combine("home", "alice"), 4321, 4321);
        var cli = Path.Combine(userLib, "docker-dso");

        var run = await ChildProcess.RunAsync(cli, ["system", "install", "--root", root.Path], null, TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Contains($"{cli} is not safe for root to run at every boot ({home.Combine("home", "alice")} is owned by uid 4321)", run.StandardOutput, StringComparison.Ordinal);
        var service = await File.ReadAllTextAsync(root.Combine("etc", "systemd", "system", "dso-agent.service"), TestContext.Current.CancellationToken);
        Assert.Contains("ExecStart=/usr/local/lib/dso/dso-agent --config /etc/dso/dso.yaml", service, StringComparison.Ordinal);
        foreach (var name in new[] { "docker-dso", "dso-init" })
        {
            var copy = root.Combine("usr", "local", "lib", "dso", name);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(userLib, name), TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(copy, TestContext.Current.CancellationToken));
            var owner = UnixFiles.Ownership(copy);
            Assert.Equal((0u, (UnixFileMode)Convert.ToInt32("755", 8)), (owner.Uid, owner.Mode));
        }

        Assert.DoesNotContain(userLib, service, StringComparison.Ordinal);
    }

    /// <summary>A directory under /var/lib, whose whole chain is root's.</summary>
    private sealed class RootOwnedDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateDirectory($"/var/lib/dso-test-install-{Guid.NewGuid():N}").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
