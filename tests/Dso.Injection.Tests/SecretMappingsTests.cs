using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Testing;

namespace Dso.Injection.Tests;

/// <summary>dso.yaml's `secrets:` (the seed's agent-mode model) mapped onto compose services that hold no reference.</summary>
public sealed class SecretMappingsTests : IDisposable
{
    private const string SeedConfig = """
        providers:
          vault:
            type: file
            path: /dev/null
        secrets:
          - name: database_credentials
            provider: vault
            rotation:
              enabled: true
              strategy: rolling
            targets:
              containers:
                - mysql
            mappings:
              MYSQL_ROOT_PASSWORD: prod/mysql/root_password
              MYSQL_PASSWORD: prod/mysql/app_password
          - name: api_keys
            rotation:
              strategy: signal
              signal: USR1
            inject:
              type: file
            targets:
              labels:
                tier: edge
            mappings:
              API_KEY_FILE: prod/api/key#primary
        """;

    private readonly TempDirectory _dir = new("dso-mappings-");

    [Fact]
    public void TheSeedsExample_MapsByContainerLabelAndName_AsReferencesWithTheirEntrysRotation()
    {
        var project = Load("""
            services:
              mysql:
                image: mysql:8
                environment:
                  MYSQL_ROOT_PASSWORD: ""
                  MYSQL_PASSWORD: ""
              app:
                image: myapp
                labels:
                  dso.reloader: "true"
                  dso.secrets: "database_credentials"
                  tier: edge
                environment:
                  DB_PASSWORD: dso://prod/app/db
              other:
                image: busybox
            """, SeedConfig);

        var references = ReferenceCollector.Collect(project);

        Assert.Equal(["MYSQL_PASSWORD=dso://vault:prod/mysql/app_password", "MYSQL_ROOT_PASSWORD=dso://vault:prod/mysql/root_password"], Texts(references["mysql"]));
        Assert.Equal(["API_KEY_FILE=dsofile://prod/api/key#primary", "DB_PASSWORD=dso://prod/app/db", "MYSQL_PASSWORD=dso://vault:prod/mysql/app_password", "MYSQL_ROOT_PASSWORD=dso://vault:prod/mysql/root_password"], Texts(references["app"]));
        Assert.False(references.ContainsKey("other"));
        var apiKey = references["app"].Single(r => r.Variable == "API_KEY_FILE");
        Assert.True(apiKey.Mapped);
        Assert.Equal(new Dso.Ipc.SecretRotation("signal", "SIGUSR1"), apiKey.Rotation);
        Assert.Equal("dso.yaml: secrets[1] (api_keys).mappings.API_KEY_FILE", apiKey.Where);
        Assert.Equal("rolling", references["mysql"][0].Rotation?.Strategy);
        Assert.False(references["app"].Single(r => r.Variable == "DB_PASSWORD").Mapped);
    }

    [Fact]
    public void TheOverride_PutsTheMappedReferencesInTheEnvironment_NeverTheWrittenOnes()
    {
        var project = Load("""
            services:
              mysql:
                image: mysql:8
                environment:
                  MYSQL_ROOT_PASSWORD: ""
                  OTHER: dso://prod/other
            """, SeedConfig);
        var references = ReferenceCollector.Collect(project)["mysql"];
        var plan = new ServicePlan(project.Find("mysql")!, references, new ServiceOwner(0, 0, null), new Dso.Injection.Engine.ImageConfig(null, null, null));

        var environment = OverrideBuilder.MappedEnvironment(plan);

        Assert.Equal(new Dictionary<string, string> { ["MYSQL_PASSWORD"] = "dso://vault:prod/mysql/app_password", ["MYSQL_ROOT_PASSWORD"] = "dso://vault:prod/mysql/root_password" }, environment);
        var written = OverrideWriter.Write(null, [new ServiceOverride("mysql", ["/.dso/dso-init"], null, [], new Dictionary<string, string>(), environment)]);
        Assert.Contains("\"MYSQL_PASSWORD\": \"dso://vault:prod/mysql/app_password\"", written, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dso.secrets: \"nope\"", "", "compose.yaml:3: service app, label dso.secrets: dso.yaml has no secrets entry named 'nope' (it has api_keys, database_credentials); add it under secrets: or fix the label")]
    [InlineData("dso.secrets: \"database_credentials\"", "MYSQL_PASSWORD: plain", "service app, MYSQL_PASSWORD has a value and dso.yaml: secrets[0] (database_credentials).mappings.MYSQL_PASSWORD maps it too; leave it empty (MYSQL_PASSWORD: \"\") or remove it from one of them")]
    public void AMappingThatCannotApply_IsOneLineSayingWhereAndHow(string label, string environment, string expected)
    {
        var error = Assert.Throws<DsoException>(() => Load($$"""
            services:
              app:
                image: myapp
                labels: { {{label}} }
                environment: { {{environment}} }
            """, SeedConfig));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("\"1BAD\": x/y", "'1BAD' is not an environment variable name")]
    [InlineData("GOOD: \"a path\"", "is not a provider path DSO can use")]
    public void ABadMapping_IsRefusedAtItsKey(string mapping, string problem)
    {
        var error = Assert.Throws<DsoException>(() => Load("""
            services:
              app:
                image: myapp
                labels: { dso.secrets: "one" }
            """, $$"""
            secrets:
              - name: one
                mappings:
                  {{mapping}}
            """));

        Assert.StartsWith("dso.yaml: secrets[0] (one).mappings.", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private static List<string> Texts(IReadOnlyList<ServiceReference> references) =>
        [.. references.Select(r => $"{r.Variable}={r.Text}").Order(StringComparer.Ordinal)];

    private ComposeProject Load(string compose, string dsoYaml)
    {
        _dir.WriteFile("compose.yaml", compose);
        var config = _dir.WriteFile("dso.yaml", dsoYaml);
        var loaded = ConfigLoader.Load(config, _ => null, _dir.Path);
        return SecretMappings.Apply(ComposeLoader.Load(ComposeOptions.Default, new Dictionary<string, string>(), _dir.Path), loaded.Config, loaded.Path);
    }
}
