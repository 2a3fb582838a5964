using Dso.Processes;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>The plugin as Docker itself runs it: the real `docker` CLI with a plugin directory.</summary>
public sealed class DockerCliPluginTests : IDisposable
{
    private readonly TempDirectory _config = new("dso-docker-config-");

    public DockerCliPluginTests()
    {
        var plugins = Directory.CreateDirectory(_config.Combine("cli-plugins"));
        File.CreateSymbolicLink(Path.Combine(plugins.FullName, "docker-dso"), Path.Combine(AppContext.BaseDirectory, "docker-dso"));
    }

    [Fact]
    public async Task DockerDsoVersion_RunsThroughTheDockerCli()
    {
        var result = await DockerAsync("dso", "version");

        Assert.True(result.Succeeded, result.StandardError);
        Assert.Contains($"DSO {BuildInfo.Current.Version}", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("commit:", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerHelp_ListsDsoWithItsShortDescription()
    {
        var result = await DockerAsync("--help");

        Assert.True(result.Succeeded, result.StandardError);
        var line = result.StandardOutput.Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith("dso", StringComparison.Ordinal));
        Assert.NotNull(line);
        Assert.Contains(PluginMetadata.Current.ShortDescription, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerDso_UnknownCommand_ExitsWithUsageCode()
    {
        var result = await DockerAsync("dso", "no-such-command");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("no-such-command", result.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => _config.Dispose();

    private Task<ProcessResult> DockerAsync(params string[] args) =>
        ChildProcess.RunAsync("docker", args, new ChildProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = _config.Path },
            Timeout = TimeSpan.FromMinutes(1),
        }, TestContext.Current.CancellationToken);
}
