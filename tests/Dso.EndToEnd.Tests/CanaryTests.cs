using System.Text;
using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>G1: a planted secret reaches no persistent file system, through up and down.</summary>
public sealed class CanaryTests(EngineFixture engine)
{
    [Fact]
    public async Task Canary_IsInTheRamDirectoryOnlyWhileUp_AndOnNoDiskTreeEver()
    {
        await engine.RequireAsync();
        var envCanary = ComposeProjectUnderTest.Canary();
        var fileCanary = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://canary/env
                  KEY_FILE: dsofile://canary/file
            """);
        // Every DSO process (and compose below it) gets a home of its own, scanned whole with the rest.
        var home = Directory.CreateDirectory(Path.Combine(stack.Directory, "home")).FullName;
        stack.Environment["HOME"] = home;
        await stack.WithSecretsAsync(("canary/env", envCanary), ("canary/file", fileCanary));
        var diskTrees = await stack.DiskTreesAsync(home);

        await stack.DsoOkAsync("up", "-d");
        var container = await stack.ContainerAsync("api");
        Assert.Equal(envCanary, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(container))["DB_PASSWORD"]);
        Assert.Equal(fileCanary, await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/file"));

        Assert.NotEmpty(CanaryScanner.FindIn([stack.SecretsDirectory], envCanary));
        Assert.NotEmpty(CanaryScanner.FindIn([stack.SecretsDirectory], fileCanary));
        Assert.Empty(CanaryScanner.FindIn(diskTrees, envCanary));
        Assert.Empty(CanaryScanner.FindIn(diskTrees, fileCanary));
        Assert.DoesNotContain(envCanary, await EngineFixture.DockerOkAsync("inspect", container), StringComparison.Ordinal);
        var diff = await EngineFixture.DockerOkAsync("diff", container);
        Assert.DoesNotContain("/run/secrets/dso/", diff, StringComparison.Ordinal);

        var hitsWhileUp = CanaryScanner.FindIn(diskTrees, envCanary).Count + CanaryScanner.FindIn(diskTrees, fileCanary).Count;
        await stack.DsoOkAsync("down");

        Assert.Empty(CanaryScanner.FindIn([stack.SecretsDirectory], envCanary));
        var hitsAfterDown = CanaryScanner.FindIn(diskTrees, envCanary).Count + CanaryScanner.FindIn(diskTrees, fileCanary).Count;
        Assert.Equal(0, hitsAfterDown);
        Figures.Record("G1", $"files holding an env or file canary (raw, hex or base64) in {diskTrees.Length} disk trees ($HOME of the DSO processes among them), while up and after down", $"{hitsWhileUp} and {hitsAfterDown}");
    }

    [Fact]
    public void Scanner_FindsACanaryInEveryFormItLooksFor()
    {
        using var dir = new TempDirectory();
        var canary = ComposeProjectUnderTest.Canary();
        var raw = Encoding.UTF8.GetBytes(canary);
        var samples = new Dictionary<string, byte[]>
        {
            ["raw"] = [.. "prefix "u8.ToArray(), .. raw],
            ["hex"] = Encoding.ASCII.GetBytes("x" + Convert.ToHexStringLower(raw)),
            ["HEX"] = Encoding.ASCII.GetBytes(Convert.ToHexString(raw) + "y"),
            ["b64-0"] = Encoding.ASCII.GetBytes(Convert.ToBase64String([.. "abc"u8.ToArray(), .. raw])),
            ["b64-1"] = Encoding.ASCII.GetBytes(Convert.ToBase64String([.. "a"u8.ToArray(), .. raw, .. "z"u8.ToArray()])),
            ["b64-2"] = Encoding.ASCII.GetBytes(Convert.ToBase64String([.. "ab"u8.ToArray(), .. raw])),
        };
        foreach (var (name, bytes) in samples)
        {
            File.WriteAllBytes(dir.Combine(name), bytes);
        }

        File.WriteAllText(dir.Combine("clean"), "nothing here " + ComposeProjectUnderTest.Canary());

        var hits = CanaryScanner.FindIn([dir.Path], canary).Select(Path.GetFileName).Order().ToArray();

        Assert.Equal(samples.Keys.Order().ToArray(), hits);
    }
}
