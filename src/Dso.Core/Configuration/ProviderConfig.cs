namespace Dso.Configuration;

/// <summary>One provider under `providers:`.</summary>
internal sealed class ProviderConfig
{
    [ConfigKey("type", "Provider type: `local` (the encrypted vault), `file` (a plain JSON file; development and tests only), `vault`, `aws`, `azure`, `huawei`.", Allowed = ["local", "file", "vault", "aws", "azure", "huawei"])]
    public string? Type { get; set; }

    [ConfigKey("region", "Cloud region (aws, huawei).")]
    public string? Region { get; set; }

    [ConfigKey("endpoint", "Service endpoint override.")]
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

    [ConfigKey("options", "Provider-specific settings.")]
    public Dictionary<string, string> Options { get; set; } = new(StringComparer.Ordinal);
}
