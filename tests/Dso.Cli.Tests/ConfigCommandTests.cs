namespace Dso.Cli.Tests;

public sealed class ConfigCommandTests
{
    [Fact]
    public async Task Show_PrintsEveryKeyWithDefaults_AndRedactsCredentials()
    {
        using var cli = new VaultCliFixture(initialize: false);
        cli.WriteFile("dso.yaml", "agent:\n  api:\n    token: tok-12345678\n    webhook_secret: ${HOOK_KEY}\nproviders:\n  v:\n    type: vault\n    endpoint: https://vault.example.com:8200\n    auth:\n      method: token\n      params:\n        token: s.vault-token\n");
        cli.Environment["HOOK_KEY"] = "hook-key-from-env";

        var yaml = await cli.RunAsync("config", "show");
        var json = await cli.RunAsync("config", "show", "--json");

        Assert.Equal(0, yaml.ExitCode);
        Assert.Contains("polling_interval: 30s", yaml.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("socket: /run/dso/dso.sock", yaml.StandardOutput, StringComparison.Ordinal);
        foreach (var output in new[] { yaml.StandardOutput, json.StandardOutput })
        {
            Assert.Contains("[redacted]", output, StringComparison.Ordinal);
            Assert.DoesNotContain("tok-12345678", output, StringComparison.Ordinal);
            Assert.DoesNotContain("hook-key-from-env", output, StringComparison.Ordinal);
            Assert.DoesNotContain("s.vault-token", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Validate_NamesTheFileLineAndKey_OfAMistake()
    {
        using var cli = new VaultCliFixture(initialize: false);
        cli.WriteFile("dso.yaml", "agent:\n  sockett: /tmp/x\n");

        var run = await cli.RunAsync("config", "validate");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("dso: dso.yaml:2: agent.sockett is not a known key of agent (known: socket, socket_group, api,", run.StandardError, StringComparison.Ordinal);
    }
}
