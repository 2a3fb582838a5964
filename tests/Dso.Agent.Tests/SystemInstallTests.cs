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

        var first = await ChildProcess.RunAsync(AgentProcess.Cli, ["system", "install", "--root", root.Path], null, TestContext.Current.CancellationToken);
        var second = await ChildProcess.RunAsync(AgentProcess.Cli, ["system", "install", "--root", root.Path], null, TestContext.Current.CancellationToken);

        Assert.True(first.Succeeded, first.StandardError);
        var unitDirectory = root.Combine("etc", "systemd", "system");
        var service = await File.ReadAllTextAsync(Path.Combine(unitDirectory, "dso-agent.service"), TestContext.Current.CancellationToken);
        Assert.Contains($"ExecStart={AgentProcess.Cli} agent --config /etc/dso/dso.yaml", service, StringComparison.Ordinal);
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
}
