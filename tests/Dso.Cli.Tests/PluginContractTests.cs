using System.Text.Json;

namespace Dso.Cli.Tests;

public sealed class PluginContractTests
{
    [Fact]
    public async Task Metadata_PrintsExactlyTheDockerPluginJsonAndNothingElse()
    {
        var run = await CliHarness.RunAsync("docker-cli-plugin-metadata");

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Empty(run.StandardError);
        Assert.EndsWith("}\n", run.StandardOutput, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["SchemaVersion", "Vendor", "Version", "ShortDescription"], names);
        Assert.Equal("0.1.0", json.RootElement.GetProperty("SchemaVersion").GetString());
        Assert.Equal(BuildInfo.Current.Version, json.RootElement.GetProperty("Version").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("Vendor").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("ShortDescription").GetString()));
    }

    [Fact]
    public async Task LeadingDsoArgument_IsStrippedAsDockerPassesIt()
    {
        var asPlugin = await CliHarness.RunAsync("dso", "version", "--json");
        var standalone = await CliHarness.RunAsync("version", "--json");

        Assert.Equal(ExitCodes.Success, asPlugin.ExitCode);
        Assert.Equal(standalone.StandardOutput, asPlugin.StandardOutput);
        using var json = JsonDocument.Parse(asPlugin.StandardOutput);
        Assert.Equal(BuildInfo.Current.Version, json.RootElement.GetProperty("version").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("commit").GetString()));
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("buildDate").GetString()));
    }

    [Fact]
    public async Task Version_Text_NamesVersionCommitAndBuildDate()
    {
        var run = await CliHarness.RunAsync("version");

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Contains($"DSO {BuildInfo.Current.Version}", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"commit:     {BuildInfo.Current.Commit}", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"built:      {BuildInfo.Current.BuildDate}", run.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("version", "--no-such-option")]
    public async Task UsageErrors_ExitWithTwoAndOneLinePerProblem(params string[] args)
    {
        var run = await CliHarness.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith("dso: ", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("--help", run.StandardError, StringComparison.Ordinal);
    }
}
