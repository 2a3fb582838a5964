using System.Diagnostics;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// What a process on the host can learn from DSO's executables as shipped (the NativeAOT builds
/// scripts/build-native.sh makes, copied beside these tests): none serves the .NET diagnostics
/// socket (through which a same-user process could dump the unlocked vault key), and a child that
/// docker-dso starts cannot read docker-dso's environment (where DSO_PASSPHRASE may be).
/// </summary>
public sealed class NativeExecutableTests
{
    private static readonly string Cli = AgentProcess.Cli;

    [Fact]
    public async Task NoShippedExecutable_ServesTheDotnetDiagnosticsSocket()
    {
        RequireNative();
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();
        // docker-dso as a built-in provider plugin, as the agent and `up` start it: it waits on stdin.
        using var plugin = Process.Start(new ProcessStartInfo(Cli) { ArgumentList = { "provider-plugin", "vault" }, RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            var listening = await File.ReadAllTextAsync("/proc/net/unix", TestContext.Current.CancellationToken);
            foreach (var pid in new[] { agent.Pid, plugin.Id })
            {
                Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*"));
                Assert.DoesNotContain($"dotnet-diagnostic-{pid}-", listening, StringComparison.Ordinal);
            }

            Figures.Record("G5", "diagnostics sockets served by dso-agent and by docker-dso as a provider plugin", "0 of 2");
        }
        finally
        {
            plugin.Kill();
            await plugin.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task AChildOfDockerDso_CannotReadDockerDsosEnvironment_EvenRunningAsTheSameUser()
    {
        RequireNative();
        using var dir = new TempDirectory("dso-env-");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("777", 8));
        var seen = Path.Combine(dir.Path, "seen");
        // A "plugin" that tries to read its parent's environment, as any same-user process could.
        var spy = dir.WriteFile("spy.sh", $"#!/bin/sh\ncat /proc/$PPID/environ > {seen} 2>&1; echo \"exit $?\" >> {seen}\n");
        File.SetUnixFileMode(spy, (UnixFileMode)Convert.ToInt32("755", 8));

        var run = await ChildProcess.RunAsync(
            "setpriv",
            ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "/usr/bin/env", $"HOME={dir.Path}", $"DSO_HOME={dir.Path}/.dso", "DSO_PASSPHRASE=the-parents-passphrase", Cli, "provider", "test", "--secret", "a/b", "--", spy],
            new ChildProcessOptions { WorkingDirectory = dir.Path },
            TestContext.Current.CancellationToken);

        var text = await File.ReadAllTextAsync(seen, TestContext.Current.CancellationToken);
        Assert.DoesNotContain("the-parents-passphrase", text, StringComparison.Ordinal);
        Assert.Contains("Permission denied", text, StringComparison.Ordinal);
        Assert.NotEqual(0, run.ExitCode);
    }

    [Fact]
    public void TheTestsRun_TheNativeExecutables_NotADotnetHost()
    {
        RequireNative();
        foreach (var executable in new[] { Cli, Path.Combine(AppContext.BaseDirectory, "dso-agent") })
        {
            var bytes = File.ReadAllBytes(executable);
            Assert.True(bytes.AsSpan(0, 4).SequenceEqual("\u007fELF"u8), $"{executable} is not an ELF executable");
            Assert.False(IsDotnetHost(bytes), $"{executable} is a .NET apphost, not the native build");
        }
    }

    /// <summary>A .NET apphost loads the runtime through libhostfxr; a NativeAOT executable carries its runtime.</summary>
    private static bool IsDotnetHost(byte[] executable) => executable.AsSpan().IndexOf("libhostfxr"u8) >= 0;

    private static void RequireNative()
    {
        var agent = Path.Combine(AppContext.BaseDirectory, "dso-agent");
        if (File.Exists(agent) && !IsDotnetHost(File.ReadAllBytes(Cli)))
        {
            return;
        }

        var message = "the native docker-dso and dso-agent are not beside the tests: run scripts/build-native.sh, then build the tests (scripts/test.sh does both)";
        if (TestEnvironment.IsCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
    }
}
