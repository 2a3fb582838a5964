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
    public async Task Validate_RunsNoProgramTheCheckoutNames_UnlessAllowProvidersIsGiven()
    {
        using var cli = new VaultCliFixture();
        var mode = cli.WriteFile("chaos.mode", "ok\n");
        cli.WriteFile("dso.yaml", $"providers:\n  chaos:\n    type: plugin\n    command: /usr/bin/python3\n    args: [{ChaosPlugin}, {mode}, {mode}.environ]\n");
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      TOKEN: dso://chaos:app/token\n");

        var refused = await cli.RunAsync("validate");
        var started = File.Exists(mode + ".environ");
        var allowed = await cli.RunAsync("validate", "--allow-providers");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not checked: provider chaos (type plugin) is configured by ./dso.yaml, in the project being checked, and validate starts or contacts no provider a project configures unless --allow-providers is given", refused.StandardError, StringComparison.Ordinal);
        Assert.False(started, "validate started the plugin without --allow-providers");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(File.Exists(mode + ".environ"), "validate --allow-providers did not start the plugin");
    }

    [Fact]
    public async Task Validate_SendsNoCredentialToAnEndpointTheCheckoutNames_AndPrintsNoValueAnEnvironmentVariableGave()
    {
        using var cli = new VaultCliFixture();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        cli.Environment["VAULT_TOKEN"] = "hvs.the-users-own-token";
        cli.Environment["DSO_PASSPHRASE"] = "the-users-passphrase";
        cli.Environment["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI-the-users-key";
        cli.WriteFile("dso.yaml", $"providers:\n  corp:\n    type: vault\n    endpoint: \"http://127.0.0.1:{port}/${{DSO_PASSPHRASE}}\"\n");
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      A: dso://corp:x\n");

        var checkedRun = await cli.RunAsync("validate");
        var connected = listener.Pending();
        cli.WriteFile("dso.yaml", "providers:\n  corp:\n    type: vault\n    endpoint: \"${AWS_SECRET_ACCESS_KEY}\"\n");
        var badEndpoint = await cli.RunAsync("config", "validate");

        Assert.Equal(1, checkedRun.ExitCode);
        Assert.False(connected, "validate connected to the endpoint the checkout named");
        Assert.Contains("not checked: provider corp (type vault)", checkedRun.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, badEndpoint.ExitCode);
        Assert.Contains("'${AWS_SECRET_ACCESS_KEY}' is not an http(s) URL", badEndpoint.StandardError, StringComparison.Ordinal);
        foreach (var run in new[] { checkedRun, badEndpoint })
        {
            Assert.DoesNotContain("the-users", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("wJalrXUtnFEMI", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AProgramNamedWithoutAPath_IsFoundOnPathOnly_NeverInTheCurrentDirectory()
    {
        using var dir = new TempDirectory("dso-path-");
        var planted = dir.WriteFile("systemctl", "#!/bin/sh\necho planted\n");
        File.SetUnixFileMode(planted, (UnixFileMode)Convert.ToInt32("755", 8));

        Assert.Null(Dso.Processes.ProgramPath.Find("systemctl", $".:{dir.Path}x:relative/bin"));
        Assert.Equal(planted, Dso.Processes.ProgramPath.Find("systemctl", $"/nonexistent:{dir.Path}"));
        Assert.Equal("/usr/bin/env", Dso.Processes.ProgramPath.Find("env", "/usr/bin"));
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

        var run = await cli.RunAsync("provider", "test", "--secret", "a/b", "--env", "DSO_MASTER_KEY", "--env", "DSO_PASSPHRASE", "--env", "DSO_NEW_PASSPHRASE", "--env", "CHAOS_TOKEN", "--", "/usr/bin/python3", ChaosPlugin, mode, mode + ".environ");

        // The chaos plugin fails some of the kit's checks on purpose; what counts here is what it was given.
        Assert.True(File.Exists(mode + ".environ"), run.ToString());
        var seen = await File.ReadAllLinesAsync(mode + ".environ", TestContext.Current.CancellationToken);
        Assert.Contains("CHAOS_TOKEN", seen);
        Assert.DoesNotContain(seen, name => name.StartsWith("DSO_", StringComparison.Ordinal));
    }
}
