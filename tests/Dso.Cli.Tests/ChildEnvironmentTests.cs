using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>
/// What DSO's children get to see: a provider plugin never gets the vault's credentials, whatever
/// it asks for, and `validate` runs no program a checkout's dso.yaml names unless told to.
/// </summary>
public sealed class ChildEnvironmentTests
{
    private static readonly string ChaosPlugin = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "plugins", "chaos_plugin.py");

    [Fact]
    public async Task Validate_RunsNoProgramTheCheckoutNames_UnlessAllowPluginsIsGiven()
    {
        using var cli = new VaultCliFixture();
        var mode = cli.WriteFile("chaos.mode", "ok\n");
        cli.WriteFile("dso.yaml", $"providers:\n  chaos:\n    type: plugin\n    command: /usr/bin/python3\n    args: [{ChaosPlugin}, {mode}]\n");
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      TOKEN: dso://chaos:app/token\n");

        var refused = await cli.RunAsync("validate");
        var started = File.Exists(mode + ".environ");
        var allowed = await cli.RunAsync("validate", "--allow-plugins");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not checked: provider chaos runs the program '/usr/bin/python3', and validate runs no program a dso.yaml names unless --allow-plugins is given", refused.StandardError, StringComparison.Ordinal);
        Assert.False(started, "validate started the plugin without --allow-plugins");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(File.Exists(mode + ".environ"), "validate --allow-plugins did not start the plugin");
    }

    [Fact]
    public async Task APlugin_NeverSeesTheVaultsCredentials_EvenWhenItsAllowListNamesThem()
    {
        using var cli = new VaultCliFixture();
        cli.Environment["DSO_PASSPHRASE"] = "a-passphrase-for-the-test";
        cli.Environment["DSO_NEW_PASSPHRASE"] = "another-passphrase-for-the-test";
        cli.Environment["DSO_MASTER_KEY"] = Convert.ToBase64String(new byte[32]);
        cli.Environment["CHAOS_TOKEN"] = "allowed-variable";
        var mode = cli.WriteFile("chaos.mode", "ok\n");

        var run = await cli.RunAsync("provider", "test", "--secret", "a/b", "--env", "DSO_MASTER_KEY", "--env", "DSO_PASSPHRASE", "--env", "DSO_NEW_PASSPHRASE", "--env", "CHAOS_TOKEN", "--", "/usr/bin/python3", ChaosPlugin, mode);

        // The chaos plugin fails some of the kit's checks on purpose; what counts here is what it was given.
        Assert.True(File.Exists(mode + ".environ"), run.ToString());
        var seen = await File.ReadAllLinesAsync(mode + ".environ", TestContext.Current.CancellationToken);
        Assert.Contains("CHAOS_TOKEN", seen);
        Assert.DoesNotContain(seen, name => name.StartsWith("DSO_", StringComparison.Ordinal));
    }
}
