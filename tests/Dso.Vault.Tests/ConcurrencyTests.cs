using System.Diagnostics;
using Dso.Processes;

namespace Dso.Vault.Tests;

public sealed class ConcurrencyTests
{
    private static readonly string Writer = Path.Combine(AppContext.BaseDirectory, "dso-vault-writer");

    [Fact]
    public async Task TwoProcessesWriting200SecretsEach_AtTheSameTime_LoseNothing()
    {
        using var fixture = new VaultFixture();
        var options = new ChildProcessOptions { Timeout = TimeSpan.FromMinutes(3) };
        var cancel = TestContext.Current.CancellationToken;

        var results = await Task.WhenAll(
            ChildProcess.RunAsync(Writer, [fixture.VaultPath, fixture.KeyPath, "alpha", "200"], options, cancel),
            ChildProcess.RunAsync(Writer, [fixture.VaultPath, fixture.KeyPath, "beta", "200"], options, cancel));

        Assert.All(results, r => Assert.True(r.Succeeded, r.StandardError));
        using var vault = fixture.Open();
        var names = vault.List().Select(s => s.Name).ToHashSet();
        Assert.Equal(400, names.Count);
        for (var i = 0; i < 200; i++)
        {
            Assert.Contains($"alpha/{i}", names);
            Assert.Contains($"beta/{i}", names);
        }

        using var sample = vault.Get("beta/199");
        Assert.Equal("value-of-beta/199", sample.RevealString());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(fixture.VaultPath)!, "vault.dso.tmp-*"));
    }

    [Fact]
    public async Task AWriterKilledMidWrite_NeverLeavesAVaultThatFailsToOpen()
    {
        using var fixture = new VaultFixture();
        var random = new Random(20261124);
        var confirmed = new HashSet<string>();

        for (var round = 0; round < 15; round++)
        {
            using var process = Process.Start(new ProcessStartInfo(Writer)
            {
                ArgumentList = { fixture.VaultPath, fixture.KeyPath, $"round{round}", "100000" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var lines = new List<string>();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                }
            };
            process.BeginOutputReadLine();

            // Kill it at a random moment once it is writing (its first confirmed write), so a slow
            // start on a loaded machine does not turn the round into killing a process still starting.
            for (var waited = 0; waited < 200 && !process.HasExited; waited++)
            {
                lock (lines)
                {
                    if (lines.Count > 0)
                    {
                        break;
                    }
                }

                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            await Task.Delay(random.Next(50, 400), TestContext.Current.CancellationToken);
            process.Kill();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);

            lock (lines)
            {
                confirmed.UnionWith(lines.Where(l => l.StartsWith("ok ", StringComparison.Ordinal)).Select(l => l[3..]));
            }

            using var vault = fixture.Open();
            var present = vault.List().Select(s => s.Name).ToHashSet();
            Assert.Subset(present, confirmed);
        }

        Assert.True(confirmed.Count > 15, $"the writer confirmed only {confirmed.Count} writes; the test did not exercise killing mid-write");
    }
}
