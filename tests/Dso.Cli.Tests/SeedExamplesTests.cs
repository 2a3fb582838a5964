using System.Text.Json;
using Dso.Injection.Compose;
using Dso.Injection.Planning;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>
/// The dso.yaml and compose examples of the original project's documents, each kept here exactly as
/// the document prints it (seed file and lines named above each), loaded by the CLI and checked for
/// what the document says it means.
/// </summary>
public sealed class SeedExamplesTests
{
    /// <summary>Seed 000 (README, "Security": file-based injection), lines 232–240.</summary>
    private const string PostgresCompose = """
        # docker-compose.yaml
        services:
          db:
            image: postgres:15
            environment:
              # RECOMMENDED: Use dsofile:// for file-based injection
              POSTGRES_PASSWORD_FILE: dsofile://db/password
              # NOT RECOMMENDED: dso:// is visible to docker inspect
              # POSTGRES_PASSWORD: dso://db/password
        """;

    /// <summary>Seed 002 (README, "Quick Start" step 5, a comment block the reader uncomments), lines 104–108.</summary>
    private const string QuickStartCompose = """
        services:
          postgres:
            image: postgres:15
            environment:
              POSTGRES_PASSWORD_FILE: dsofile://app/db_password
        """;

    /// <summary>Seed 000 (SECURITY, "Configuration"), lines 246–259.</summary>
    private const string SecurityConfig = """
        # /etc/dso/dso.yaml
        providers:
          vault:
            type: vault
            # Use IAM roles instead of hardcoded credentials where possible
            auth:
              method: iam_role  # On AWS EC2, uses instance IAM role

        rotation:
          strategy: restart        # Gracefully stop/start containers
          grace_period: 30s

        logging:
          level: info              # Prevents secret leaks in debug traces
        """;

    /// <summary>Seed 002 (README, "Labels"), lines 274–296.</summary>
    private const string LabelledCompose = """
        # docker-compose.yaml
        services:
          mysql:
            image: mysql:8
            labels:
              dso.reloader: "true"                  # DSO will manage this container
              dso.secrets: "database_credentials"   # Which secret to inject
              dso.update.strategy: "rolling"        # Zero-downtime swap (default)
              dso.host_ports: "3306:3306"           # DSO TCP Proxy owns this port binding
            environment:
              MYSQL_ROOT_PASSWORD: ""               # Injected at runtime by DSO
              MYSQL_PASSWORD: ""
            expose:
              - "3306"                              # Expose internally; DSO proxy handles host binding

          app:
            image: myapp:latest
            labels:
              dso.reloader: "true"
              dso.secrets: "database_credentials"
              dso.update.strategy: "rolling"
            environment:
              DB_PASSWORD: ""                       # Injected at runtime by DSO
        """;

    /// <summary>Seed 002 (README, "Rotation Strategies"), lines 440–447.</summary>
    private const string PerSecretRotation = """
        defaults:
          rotation:
            strategy: rolling           # applies to all secrets unless overridden

        secrets:
          - name: api_keys
            rotation:
              strategy: signal          # override for this secret only
        """;

    [Theory]
    [InlineData(PostgresCompose, "db", "POSTGRES_PASSWORD_FILE", "db/password")]
    [InlineData(QuickStartCompose, "postgres", "POSTGRES_PASSWORD_FILE", "app/db_password")]
    public async Task TheFileFormExamples_AreOneFileReferenceEach_TheCommentedEnvFormIsNot(string compose, string service, string variable, string path)
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync(path, "pg-secret-value");
        cli.WriteFile("docker-compose.yaml", compose);

        var validate = await cli.RunAsync("validate", "--strict", "--json");

        Assert.True(validate.ExitCode == 0, validate.ToString());
        using var report = JsonDocument.Parse(validate.StandardOutput);
        var reference = Assert.Single(report.RootElement.GetProperty("references").EnumerateArray());
        Assert.Equal(service, reference.GetProperty("service").GetString());
        Assert.Equal(variable, reference.GetProperty("variable").GetString());
        Assert.Equal($"dsofile://{path}", reference.GetProperty("reference").GetString());
        Assert.True(reference.GetProperty("resolvable").GetBoolean());
        Assert.DoesNotContain("pg-secret-value", validate.StandardOutput + validate.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSecurityGuidesConfig_NeedsItsVaultsAddress_FromVaultAddr_AndThenMeansWhatItSays()
    {
        using var cli = new VaultCliFixture(initialize: false);
        var config = cli.WriteFile("security.yaml", SecurityConfig);

        var without = await cli.RunAsync("config", "validate", "--config", config);
        cli.Environment["VAULT_ADDR"] = "https://vault.example.com:8200";
        var with = await cli.RunAsync("config", "validate", "--config", config);
        var show = await cli.RunAsync("config", "show", "--json", "--config", config);

        Assert.Equal(1, without.ExitCode);
        Assert.Contains("providers.vault (type vault) needs endpoint: the Vault address (https://vault.example.com:8200), or VAULT_ADDR in the environment", without.StandardError, StringComparison.Ordinal);
        Assert.True(with.ExitCode == 0, with.ToString());
        using var tree = JsonDocument.Parse(show.StandardOutput);
        var root = tree.RootElement;
        Assert.Equal("https://vault.example.com:8200", root.GetProperty("providers").GetProperty("vault").GetProperty("endpoint").GetString());
        Assert.Equal("iam_role", root.GetProperty("providers").GetProperty("vault").GetProperty("auth").GetProperty("method").GetString());
        Assert.Equal("restart", root.GetProperty("rotation").GetProperty("strategy").GetString());
        Assert.Equal("30s", root.GetProperty("rotation").GetProperty("grace_period").GetString());
        Assert.Equal("info", root.GetProperty("logging").GetProperty("level").GetString());
    }

    [Fact]
    public async Task TheLabelledComposeWithTheAwsConfig_GivesBothServicesTheEntrysMappings_AndSaysAppsOwnPlaceholderStaysEmpty()
    {
        using var cli = new VaultCliFixture(initialize: false);
        cli.WriteFile("dso.yaml", SeedExamples.ReadmeAwsConfig);
        cli.WriteFile("docker-compose.yaml", LabelledCompose);

        var validate = await cli.RunAsync("validate", "--json");

        // The aws provider is the project's own (its dso.yaml): validate contacts it only when told to.
        using var report = JsonDocument.Parse(validate.StandardOutput);
        var references = report.RootElement.GetProperty("references").EnumerateArray()
            .Select(r => $"{r.GetProperty("service").GetString()} {r.GetProperty("variable").GetString()} {r.GetProperty("reference").GetString()}")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
            [
                "app MYSQL_PASSWORD dso://aws:prod/mysql/app_password",
                "app MYSQL_ROOT_PASSWORD dso://aws:prod/mysql/root_password",
                "mysql MYSQL_PASSWORD dso://aws:prod/mysql/app_password",
                "mysql MYSQL_ROOT_PASSWORD dso://aws:prod/mysql/root_password",
            ],
            references);
        var warning = Assert.Single(report.RootElement.GetProperty("warnings").EnumerateArray()).GetString();
        Assert.Contains("service app, DB_PASSWORD is \"\" and no dso.yaml secrets entry that targets the service maps it, so it starts empty", warning, StringComparison.Ordinal);
        Assert.All(report.RootElement.GetProperty("references").EnumerateArray(), r => Assert.Contains("--allow-providers", r.GetProperty("error").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void TheLabelledCompose_MeansRollingSwapsForBoth_AndTheProxyOwnsMysqlsHostPort3306()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("docker-compose.yaml", LabelledCompose);

        var project = ComposeLoader.Load(ComposeOptions.Default, new Dictionary<string, string>(), dir.Path);
        var mysql = RotationLabels.Read(project.Services.Single(s => s.Name == "mysql"));
        var app = RotationLabels.Read(project.Services.Single(s => s.Name == "app"));

        Assert.Equal("rolling", mysql.Strategy);
        Assert.Equal(["0.0.0.0:3306->3306 (dso.host_ports)"], mysql.Ports.Select(p => $"{p.HostIp}:{p.HostPort}->{p.ContainerPort} ({p.Source})"));
        Assert.Equal("rolling", app.Strategy);
        Assert.Empty(app.Ports);
    }

    [Fact]
    public async Task ThePerSecretRotationExample_KeepsRollingAsTheDefault_AndSignalForItsSecret()
    {
        using var cli = new VaultCliFixture(initialize: false);
        var config = cli.WriteFile("rotation.yaml", PerSecretRotation);

        var show = await cli.RunAsync("config", "show", "--json", "--config", config);

        Assert.True(show.ExitCode == 0, show.ToString());
        using var tree = JsonDocument.Parse(show.StandardOutput);
        Assert.Equal("rolling", tree.RootElement.GetProperty("defaults").GetProperty("rotation").GetProperty("strategy").GetString());
        var secret = Assert.Single(tree.RootElement.GetProperty("secrets").EnumerateArray());
        Assert.Equal("api_keys", secret.GetProperty("name").GetString());
        Assert.Equal("signal", secret.GetProperty("rotation").GetProperty("strategy").GetString());
    }
}
