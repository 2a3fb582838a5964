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

    [Fact]
    public async Task AProgramNamedWithoutAPath_RunsFromPath_NotFromTheWorkingDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("dso-cwd-").FullName;
        try
        {
            // .NET alone would run ./env here: what a checkout, or a user's /tmp file, could plant.
            var planted = Path.Combine(dir, "env");
            File.WriteAllText(planted, "#!/bin/sh\necho planted\n");
            File.SetUnixFileMode(planted, (UnixFileMode)Convert.ToInt32("755", 8));

            var run = await ChildProcess.RunAsync("env", [], new ChildProcessOptions { WorkingDirectory = dir }, TestContext.Current.CancellationToken);

            Assert.True(run.Succeeded, run.StandardError);
            Assert.DoesNotContain("planted", run.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
