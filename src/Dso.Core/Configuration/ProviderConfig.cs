namespace Dso.Configuration;

/// <summary>One provider under `providers:`.</summary>
internal sealed class ProviderConfig
{
    [ConfigKey("type", "Provider type: `local` (the encrypted vault), `file` (a plain JSON file; development and tests only), `vault` (HashiCorp Vault), `aws` (AWS Secrets Manager), `azure` (Azure Key Vault), `huawei` (Huawei Cloud CSMS), `plugin` (any executable speaking the plugin protocol, docs/providers.md).", Allowed = ["local", "file", "vault", "aws", "azure", "huawei", "plugin"])]
    public string? Type { get; set; }

    [ConfigKey("region", "Cloud region (aws, huawei).")]
    public string? Region { get; set; }

    [ConfigKey("endpoint", "vault: the server address (`https://vault.example.com:8200`; the seed's `auth.params.address` works too; with neither, `VAULT_ADDR` from the environment, as Vault's own tools do). aws: an endpoint override (a VPC endpoint, or a test server). azure: the vault's URL (`https://NAME.vault.azure.net`), required. huawei: an endpoint override (default `https://kms.REGION.myhuaweicloud.com`).")]
    public string? Endpoint { get; set; }

    [ConfigKey("auth", "How the provider authenticates.")]
    public ProviderAuthConfig Auth { get; set; } = new();

    [ConfigKey("retry", "Retries of failed provider calls.")]
    public RetryConfig Retry { get; set; } = new();

    [ConfigKey("vault_file", "local: the vault file (default: DSO_VAULT or ~/.dso/vault.dso).")]
    public string? VaultFile { get; set; }

    [ConfigKey("master_key_file", "local: the vault's key file (default: DSO_KEY_FILE or the vault path with .key).")]
    public string? MasterKeyFile { get; set; }

    [ConfigKey("path", "file: the JSON file of secret path → value.")]
    public string? Path { get; set; }

    [ConfigKey("options", "Provider-specific settings. vault: `mount` (default `secret`), `kv_version` (`1` or `2`, default 2), `namespace` (Vault Enterprise), `ca_file` (PEM; only these roots are trusted). azure: `ca_file` (as for vault), `verify_challenge_resource` (`\"true\"`, the default: a token goes only to a vault inside the domain Key Vault's challenge names; `\"false\"` for a vault behind a custom domain). huawei: `project_id` (required, or HUAWEICLOUD_SDK_PROJECT_ID), `ca_file`. Other types take none.")]
    public Dictionary<string, string> Options { get; set; } = new(StringComparer.Ordinal);

    [ConfigKey("command", "plugin: the plugin executable (absolute path, or a name on PATH).")]
    public string? Command { get; set; }

    [ConfigKey("protocol", "plugin: `dso` (initialize, resolve, versions; docs/providers.md) or `resolve-secret` (the original project's one-method protocol: a `ResolveSecret` request per path with `path` and `config`, answered with `value`). Unset: `dso`, or `resolve-secret` when the plugin answers initialize with JSON-RPC's method-not-found.", Allowed = ["dso", "resolve-secret"])]
    public string? Protocol { get; set; }

    [ConfigKey("args", "plugin: arguments to the executable.")]
    public List<string> Args { get; set; } = [];

    [ConfigKey("env", "Environment variables the provider's process may see, besides PATH, LANG, LC_ALL, TZ, SSL_CERT_FILE and SSL_CERT_DIR (everything else is withheld). Built-in types add their own: aws the AWS_* credential variables, azure the AZURE_*, IDENTITY_* and MSI_* ones Azure.Identity reads, huawei the HUAWEICLOUD_SDK_* ones, vault VAULT_TOKEN.")]
    public List<string> Env { get; set; } = [];

    [ConfigKey("timeout", "Deadline of one call to the provider; a plugin that does not answer in time is stopped and restarted.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    [ConfigKey("circuit", "The circuit breaker: after `failures` failed calls in a row the provider is not asked for `open_for` (last-known-good values are served, and status says so); then one trial call.")]
    public CircuitConfig Circuit { get; set; } = new();
}
