using Dso.Processes;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>The new user's first steps, as real processes: init, a piped set, a get.</summary>
public sealed class ProcessTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "docker-dso");

    [Fact]
    public async Task NewUser_InitSetPipedGet_AsRealProcesses()
    {
        using var home = new TempDirectory();
        var options = (byte[]? stdin) => new ChildProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["DSO_HOME"] = home.Combine(".dso"), ["HOME"] = home.Path, ["DSO_PASSPHRASE"] = null, ["DSO_MASTER_KEY"] = null },
            StandardInput = stdin,
            Timeout = TimeSpan.FromMinutes(1),
        };
        var cancel = TestContext.Current.CancellationToken;

        var init = await ChildProcess.RunAsync(Cli, ["init"], options(null), cancel);
        var set = await ChildProcess.RunAsync(Cli, ["secret", "set", "db/password"], options("s3cr3t-value\n"u8.ToArray()), cancel);
        var get = await ChildProcess.RunAsync(Cli, ["secret", "get", "db/password"], options(null), cancel);

        Assert.True(init.Succeeded, init.StandardError);
        Assert.Contains(home.Combine(".dso", "vault.dso"), init.StandardOutput, StringComparison.Ordinal);
        Assert.True(set.Succeeded, set.StandardError);
        Assert.Equal("s3cr3t-value", get.StandardOutput);
    }
}
