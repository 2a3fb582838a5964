using Dso.Cli.Commands.SystemService;
using Dso.Cli.Doctor;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>
/// Commands the original project's documents show (`setup`, `bootstrap agent`, `system
/// enable|disable|restart|status|logs`, `doctor --level full`), where no systemd or engine is
/// needed or where their absence must be said in one line. Under systemd they are proven on a real
/// host by SystemdHostTests in Dso.Package.Tests.
/// </summary>
public sealed class SeedCommandsTests(SeedCommandsTests.Engine engine) : IClassFixture<SeedCommandsTests.Engine>
{
    public sealed class Engine : IAsyncLifetime
    {
        public EngineFixture Fixture { get; } = new();

        public ValueTask InitializeAsync() => Fixture.InitializeAsync();

        public ValueTask DisposeAsync() => Fixture.DisposeAsync();
    }

    [Theory]
    [InlineData("system status")]
    [InlineData("system enable")]
    [InlineData("system disable --now")]
    [InlineData("system restart")]
    [InlineData("system logs -f")]
    [InlineData("system logs --since 1h -p err")]
    public async Task ServiceCommands_WithoutSystemd_SayWhyAndWhatInstead_InOneLine(string command)
    {
        var run = await CliHarness.RunWithoutSystemdAsync(command.Split(' '));

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Empty(run.StandardOutput);
        var line = Assert.Single(run.StandardError.TrimEnd('\n').Split('\n'));
        Assert.Contains("systemd", line, StringComparison.Ordinal);
        Assert.Contains(command.Contains("logs", StringComparison.Ordinal) ? "--api" : "docker dso agent", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-p", "errors")]
    [InlineData("-n", "-3")]
    [InlineData("--api-addr", "localhost:8471")]
    public async Task SystemLogs_BadOptions_AreUsageErrors(string option, string value)
    {
        var run = await CliHarness.RunWithoutSystemdAsync("system", "logs", option, value);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(value, run.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1h", "-1h")]
    [InlineData("30m", "-30m")]
    [InlineData("2d", "-2d")]
    [InlineData("today", "today")]
    [InlineData("2026-01-31 10:00", "2026-01-31 10:00")]
    public void SystemLogs_Since_ADurationMeansThatLongAgo(string given, string toJournalctl) =>
        Assert.Equal(toJournalctl, SystemLogsCommand.Since(given));

    [Fact]
    public async Task SetupLocal_WhenTheEngineIsMissing_WritesNothing()
    {
        using var home = new TempDirectory("dso-setup-");
        var environment = new Dictionary<string, string> { ["HOME"] = home.Path, ["DOCKER_HOST"] = $"unix://{home.Combine("no-engine.sock")}", ["PATH"] = Environment.GetEnvironmentVariable("PATH")! };

        var run = await CliHarness.RunAsync(environment, home.Path, null, "setup", "--mode", "local", "--non-interactive");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("FAIL  engine.reachable", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("nothing was written", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Path));
    }

    [Fact]
    public async Task SetupLocal_NonInteractive_PreparesTheVaultThatInitThenCreates()
    {
        await engine.Fixture.RequireAsync();
        using var home = new TempDirectory("dso-setup-");
        var environment = new Dictionary<string, string> { ["HOME"] = home.Path, ["PATH"] = Environment.GetEnvironmentVariable("PATH")!, ["DSO_INIT"] = NativeArtifacts.Launcher };
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { } dockerHost)
        {
            environment["DOCKER_HOST"] = dockerHost;
        }

        var setup = await CliHarness.RunAsync(environment, home.Path, null, "setup", "--mode", "local", "--non-interactive");
        var config = home.Combine(".config", "dso", "dso.yaml");
        var again = await CliHarness.RunAsync(environment, home.Path, null, "setup", "--mode", "local", "--non-interactive");
        var init = await CliHarness.RunAsync(environment, home.Path, null, "init");
        var after = await CliHarness.RunAsync(environment, home.Path, null, "setup", "--mode", "local", "--non-interactive");

        Assert.True(setup.ExitCode == 0, setup.ToString());
        Assert.Contains("next:      docker dso init", setup.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(home.Combine(".dso")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Contains($"vault_file: \"{home.Combine(".dso", "vault.dso")}\"", File.ReadAllText(config), StringComparison.Ordinal);
        var validate = await CliHarness.RunAsync(environment, home.Path, null, "config", "validate");
        Assert.True(validate.ExitCode == 0, validate.ToString());
        Assert.Contains($"{config} is valid", validate.StandardOutput, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains($"kept:      {config}", again.StandardOutput, StringComparison.Ordinal);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(home.Combine(".dso", "vault.dso")), init.ToString());
        Assert.Contains("exists; next: docker dso secret set", after.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupLocal_WithAProvider_IsAUsageError()
    {
        var run = await CliHarness.RunAsync("setup", "--mode", "local", "--provider", "aws");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--mode agent", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void DoctorFull_TheLauncherMustBeStatic()
    {
        Assert.Equal("pass", Checkup.LauncherCheck(NativeArtifacts.Launcher).Verdict);
        var dynamic = Checkup.LauncherCheck("/bin/ls");
        Assert.Equal("fail", dynamic.Verdict);
        Assert.Contains("dynamically linked", dynamic.Detail, StringComparison.Ordinal);
        Assert.Equal("fail", Checkup.LauncherCheck(typeof(SeedCommandsTests).Assembly.Location).Verdict);
    }

    [Fact]
    public async Task DoctorFull_ChecksTheProjectsReferences()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("app/db", "s3cret-value");
        cli.WriteFile("compose.yaml", "services:\n  app:\n    image: busybox\n    environment:\n      DB: dso://app/db\n      MISSING: dso://app/nope\n");

        var run = await cli.RunAsync("doctor", "--level", "full", "--json");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("\"project.references\"", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("1 of 2 reference(s) do not resolve", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }
}
