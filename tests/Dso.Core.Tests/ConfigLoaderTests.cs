using Dso.Configuration;
using Dso.Testing;

namespace Dso.Core.Tests;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("dso-config-");

    [Fact]
    public void SeedReadme_AwsExample_LoadsUnchanged_AndMeansWhatItSays()
    {
        var config = Load(SeedExamples.ReadmeAwsConfig);

        Assert.Equal("aws", config.Providers["aws"].Type);
        Assert.Equal("us-east-1", config.Providers["aws"].Region);
        Assert.Equal("iam_role", config.Providers["aws"].Auth.Method);
        Assert.Equal(TimeSpan.FromSeconds(1), config.Providers["aws"].Retry.Backoff);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Agent.Watch.PollingInterval);
        Assert.Equal("rolling", config.Agent.Rotation.Strategy);
        var secret = Assert.Single(config.Secrets);
        Assert.Equal(["mysql"], secret.Targets.Containers);
        Assert.Equal("prod/mysql/app_password", secret.Mappings["MYSQL_PASSWORD"]);
        Assert.Equal("aws", ConfigLoader.DefaultProvider(config));
    }

    [Fact]
    public void SeedReadme_VaultAndLocalExamples_Load()
    {
        var vault = Load("""
            version: v1.0.0
            mode: agent

            providers:
              vault:
                type: vault
                auth:
                  method: token
                  params:
                    address: https://vault.example.com:8200
                    token: "${VAULT_TOKEN}"

            agent:
              watch:
                mode: polling
                polling_interval: "30s"

            secrets:
              - name: app_secrets
                provider: vault
                mappings:
                  DB_PASSWORD: secret/data/prod/database/password
                  API_KEY: secret/data/prod/api/key
            """, new() { ["VAULT_TOKEN"] = "s.from-env" });
        var local = Load("""
            # ./dso.yaml
            version: v1.0.0
            mode: local

            providers:
              local:
                type: local
                vault_file: ~/.dso/vault.enc
                master_key_file: ~/.dso/master.key

            secrets: {}
            """);

        Assert.Equal("s.from-env", vault.Providers["vault"].Auth.Params["token"]);
        Assert.Equal(2, vault.Secrets[0].Mappings.Count);
        Assert.Equal("~/.dso/vault.enc", local.Providers["local"].VaultFile);
        Assert.Empty(local.Secrets);
        Assert.Equal("local", ConfigLoader.DefaultProvider(local));
    }

    [Fact]
    public void NoFile_MeansDefaults()
    {
        var loaded = ConfigLoader.Load(null, _ => null, _dir.Path);

        Assert.Null(loaded.Path);
        Assert.Equal("/run/dso/dso.sock", loaded.Config.Agent.Socket);
        Assert.Equal("127.0.0.1:8471", loaded.Config.Agent.Api.Address);
        Assert.Equal("local", ConfigLoader.DefaultProvider(loaded.Config));
    }

    [Fact]
    public void Lookup_PrefersTheWorkingDirectory_ThenTheUsersConfig()
    {
        _dir.WriteFile("home/.config/dso/dso.yaml", "agent:\n  socket: /tmp/user.sock\n");
        Func<string, string?> variables = name => name == "HOME" ? _dir.Combine("home") : null;

        Assert.Equal("/tmp/user.sock", ConfigLoader.Load(null, variables, _dir.Path).Config.Agent.Socket);
        _dir.WriteFile("dso.yaml", "agent:\n  socket: /tmp/cwd.sock\n");
        Assert.Equal("/tmp/cwd.sock", ConfigLoader.Load(null, variables, _dir.Path).Config.Agent.Socket);
    }

    [Theory]
    [InlineData("agent:\n  watch:\n    pollin_interval: 30s\n", "dso.yaml:3: agent.watch.pollin_interval is not a known key of agent.watch (known: mode, polling_interval, backoff_limit, jitter, watch_files)")]
    [InlineData("colour: blue\n", "dso.yaml:1: colour is not a known key (known: version, mode, providers, provider, agent, defaults, secrets, realms, rotation, proxy, notifications, logging, audit)")]
    [InlineData("agent:\n  reconcile_interval: soon\n", "dso.yaml:2: agent.reconcile_interval 'soon' is not a duration (write 500ms, 30s, 5m or 1h)")]
    [InlineData("agent:\n  cache: maybe\n", "dso.yaml:2: agent.cache 'maybe' is not true or false")]
    [InlineData("logging:\n  level: loud\n", "dso.yaml:2: logging.level 'loud' is not one of trace, debug, info, warning, error")]
    [InlineData("providers:\n  x:\n    region: eu\n", "dso.yaml: providers.x has no type (one of local, file, vault, aws, azure, huawei, plugin)")]
    [InlineData("providers:\n  Prod:\n    type: local\n", "dso.yaml: provider name 'Prod' must be lowercase letters")]
    [InlineData("agent:\n  api:\n    address: 0.0.0.0:8471\n", "dso.yaml: agent.api.address 0.0.0.0:8471 is not loopback, so agent.api.token must be set")]
    [InlineData("defaults:\n  provider: aws\n", "dso.yaml: defaults.provider 'aws' is not one of the configured providers")]
    [InlineData("agent:\n  secret_driver:\n    socket: /tmp/dso.sock\n", "dso.yaml: agent.secret_driver.socket '/tmp/dso.sock' must be /run/docker/plugins/NAME.sock")]
    [InlineData("agent:\n  secret_driver:\n    socket: /run/docker/plugins/Dso.sock\n", "dso.yaml: agent.secret_driver.socket '/run/docker/plugins/Dso.sock' must be /run/docker/plugins/NAME.sock")]
    [InlineData("secrets:\n  - name: a\n    mappings: [x]\n", "dso.yaml:3: secrets[0].mappings must be a mapping")]
    [InlineData("providers:\n  kv:\n    type: azure\n", "dso.yaml: providers.kv (type azure) needs endpoint: the vault's https URL (https://NAME.vault.azure.net)")]
    [InlineData("providers:\n  kv:\n    type: azure\n    endpoint: https://x.vault.azure.net\n    auth:\n      method: token\n", "dso.yaml: providers.kv.auth.method 'token' is not one of default, managed_identity, workload_identity, client_secret, client_certificate, cli, env")]
    [InlineData("providers:\n  kv:\n    type: azure\n    endpoint: https://x.vault.azure.net\n    options:\n      verify_challenge_resource: no\n", "dso.yaml: providers.kv.options.verify_challenge_resource must be \"true\" or \"false\", not 'no'")]
    [InlineData("providers:\n  hw:\n    type: huawei\n    auth:\n      method: token\n", "dso.yaml: providers.hw.auth.method 'token' is not one of aksk, ecs_agency")]
    [InlineData("providers:\n  hw:\n    type: huawei\n    options:\n      project: x\n", "dso.yaml: providers.hw.options.project is not an option of type huawei (known: project_id, ca_file)")]
    [InlineData("providers:\n  vault:\n    type: vault\n    auth:\n      method: iam_role\n", "dso.yaml: providers.vault (type vault) needs endpoint: the Vault address (https://vault.example.com:8200)")]
    [InlineData("providers:\n  vault:\n    type: vault\n    endpoint: https://v:8200\n    auth:\n      method: approle\n      params:\n        role_id: r\n", "dso.yaml: providers.vault.auth.params.secret_id_file (or secret_id) is required for auth.method approle")]
    [InlineData("providers:\n  aws:\n    type: aws\n", "dso.yaml: providers.aws (type aws) needs region: the region of the secrets (for example us-east-1)")]
    [InlineData("providers:\n  aws:\n    type: aws\n    region: eu-west-1\n    auth:\n      method: static\n      params:\n        access_key_id: AKIA\n", "dso.yaml: providers.aws.auth.params.secret_access_key is required for auth.method static")]
    [InlineData("providers:\n  hw:\n    type: huawei\n", "dso.yaml: providers.hw (type huawei) needs region: (for example cn-north-4) or endpoint:")]
    [InlineData("realms:\n  \"docker/db*\": {path: x}\n", "dso.yaml: realms.\"docker/db*\": the pattern 'docker/db*' has the component 'db*'; a wildcard is a whole component")]
    [InlineData("realms:\n  \"docker//x\": {}\n", "dso.yaml: realms.\"docker//x\": the pattern 'docker//x' has an empty component")]
    [InlineData("realms:\n  \"docker/**\": {provider: aws}\n", "dso.yaml: realms.\"docker/**\".provider 'aws' is not one of the configured providers (local)")]
    [InlineData("realms:\n  \"docker/**\": {path: ../etc}\n", "dso.yaml: realms.\"docker/**\".path '../etc' is not a provider path DSO can use: the path has a '..' segment")]
    [InlineData("realms:\n  \"docker/**\": {path: \"prod/db#a\"}\n", "dso.yaml: realms.\"docker/**\".path 'prod/db#a' must be a provider path only")]
    [InlineData("realms:\n  \"docker/**\": {path: \"files:prod\"}\n", "dso.yaml: realms.\"docker/**\".path 'files:prod' must be a provider path only")]
    [InlineData("realms:\n  \"docker/**\": {paht: x}\n", "dso.yaml:2: realms.docker/**.paht is not a known key of realms.docker/** (known: provider, path)")]
    [InlineData("agent:\n  secrets_engine:\n    socket: se.sock\n", "dso.yaml: agent.secrets_engine.socket 'se.sock' must be an absolute path")]
    [InlineData("agent:\n  secrets_engine:\n    socket: /run/dso/dso.sock\n", "dso.yaml: agent.secrets_engine.socket is /run/dso/dso.sock, which is already the agent.socket")]
    public void BadConfig_IsOneLineWithFileLineAndKey(string yaml, string expected)
    {
        _dir.WriteFile("dso.yaml", yaml);

        var error = Assert.Throws<DsoException>(() => ConfigLoader.Load(null, _ => null, _dir.Path));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitConfigThatDoesNotExist_IsAnError() =>
        Assert.Contains("no such file", Assert.Throws<DsoException>(() => ConfigLoader.Load("missing.yaml", _ => null, _dir.Path)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("10", 10_000)]
    public void Durations_Parse(string text, int milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    public void Dispose() => _dir.Dispose();

    private DsoConfig Load(string yaml, Dictionary<string, string>? environment = null)
    {
        var path = _dir.WriteFile("dso.yaml", yaml);
        return ConfigLoader.Load(path, name => environment?.GetValueOrDefault(name), _dir.Path).Config;
    }
}
