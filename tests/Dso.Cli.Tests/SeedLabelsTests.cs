namespace Dso.Cli.Tests;

/// <summary>The original project's label model and one-provider form, as its README and security page write them.</summary>
public sealed class SeedLabelsTests
{
    [Fact]
    public async Task ADsoSecretsLabel_NamingNoEntry_IsAnError_EvenWhenDsoYamlHasNoSecretsAtAll()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  mysql:\n    image: mysql:8\n    labels:\n      dso.reloader: \"true\"\n      dso.secrets: \"database_credentials\"\n    environment:\n      MYSQL_ROOT_PASSWORD: \"\"\n");

        var validate = await cli.RunAsync("validate", "--strict");

        Assert.Equal(1, validate.ExitCode);
        Assert.Contains("label dso.secrets: dso.yaml has no secrets entry named 'database_credentials' (it has none)", validate.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TargetsContainers_MatchesAContainerName_AndAnUnfilledPlaceholderIsAWarning()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("prod/mysql/root_password", "root-pw-value");
        cli.WriteFile("dso.yaml", "secrets:\n  - name: database_credentials\n    provider: local\n    targets:\n      containers:\n        - mysql\n    mappings:\n      MYSQL_ROOT_PASSWORD: prod/mysql/root_password\n");
        cli.WriteFile("compose.yaml", "services:\n  db:\n    image: mysql:8\n    container_name: mysql\n    environment:\n      MYSQL_ROOT_PASSWORD: \"\"\n      MYSQL_PASSWORD: \"\"\n");

        var lenient = await cli.RunAsync("validate");
        var strict = await cli.RunAsync("validate", "--strict");

        Assert.True(lenient.ExitCode == 0, lenient.ToString());
        Assert.Contains("1 reference in 1 service", lenient.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("MYSQL_ROOT_PASSWORD  dso://local:prod/mysql/root_password", lenient.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("service db, MYSQL_PASSWORD is \"\" and no dso.yaml secrets entry that targets the service maps it, so it starts empty", lenient.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, strict.ExitCode);
    }

    [Fact]
    public async Task TheOneProviderForm_IsTheProviderNamedAfterItsType()
    {
        using var cli = new VaultCliFixture();
        var config = cli.WriteFile("seed-003.yaml", "# dso.yaml\nprovider:\n  type: aws\n  # No credentials here — uses IAM Instance Profile automatically\n  region: us-east-1\n");

        var show = await cli.RunAsync("config", "validate", "--config", config, "--json");
        var clash = cli.WriteFile("clash.yaml", "provider:\n  type: aws\n  region: us-east-1\nproviders:\n  aws:\n    type: aws\n    region: eu-west-1\n");
        var refused = await cli.RunAsync("config", "validate", "--config", clash);

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("\"providers\":[\"aws\"]", show.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"defaultProvider\":\"aws\"", show.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("provider (type aws) and providers.aws both define a provider named aws", refused.StandardError, StringComparison.Ordinal);
    }
}
