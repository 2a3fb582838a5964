namespace Dso.Cli.Tests;

/// <summary>
/// The original project's README, "Local Mode": its ./dso.yaml names the vault and the key
/// (`vault_file: ~/.dso/vault.enc`, `master_key_file: ~/.dso/master.key`), and every vault command
/// and the provider agree on that one vault.
/// </summary>
public sealed class SeedLocalModeTests
{
    private const string LocalModeYaml = """
        # ./dso.yaml
        version: v1.0.0
        mode: local

        providers:
          local:
            type: local
            vault_file: ~/.dso/vault.enc
            master_key_file: ~/.dso/master.key

        secrets: {}
        """;

    [Fact]
    public async Task TheSeedsLocalDsoYaml_IsTheVaultInitSecretValidateAndRekeyUse()
    {
        using var cli = new VaultCliFixture(initialize: false);
        cli.WriteFile("dso.yaml", LocalModeYaml);
        cli.WriteFile("compose.yaml", "services:\n  app:\n    image: myapp:latest\n    environment:\n      DB_PASSWORD: dso://myapp/db_password\n");

        var init = await cli.RunAsync("init");
        await cli.SetAsync("myapp/db_password", "s3cret-value");
        var validate = await cli.RunAsync("validate");
        var list = await cli.RunAsync("secret", "list");

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Contains(Path.Combine(cli.Home, ".dso", "vault.enc"), init.StandardOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(cli.Home, ".dso", "vault.enc")));
        Assert.True(File.Exists(Path.Combine(cli.Home, ".dso", "master.key")));
        Assert.False(File.Exists(Path.Combine(cli.Home, ".dso", "vault.dso")), "init wrote the default vault, not the configured one");
        Assert.True(validate.ExitCode == 0, validate.ToString());
        Assert.Contains("myapp/db_password", list.StandardOutput, StringComparison.Ordinal);
    }
}
