using Dso.Processes;

namespace Dso.Core.Tests;

/// <summary>Every child DSO starts through <see cref="ChildProcess"/> (compose, docker, its version probe, systemctl) follows one environment policy.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task AChild_NeverGetsTheVaultsCredentials_InheritedOrPassedOnPurpose()
    {
        var inherited = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["DSO_PASSPHRASE"] = "inherited-passphrase",
            ["DSO_MASTER_KEY"] = "inherited-key",
            ["KEPT"] = "yes",
        };

        var run = await ChildProcess.RunAsync(
            "/usr/bin/env",
            [],
            new ChildProcessOptions { BaseEnvironment = inherited, Environment = new Dictionary<string, string?> { ["DSO_NEW_PASSPHRASE"] = "passed-passphrase" } },
            TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Contains("KEPT=yes", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("DSO_", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("passphrase", run.StandardOutput, StringComparison.Ordinal);
    }
}
