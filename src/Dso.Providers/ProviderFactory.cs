using Dso.Configuration;
using Dso.Providers.File;
using Dso.Providers.Plugins;
using Dso.Vault;

namespace Dso.Providers;

/// <summary>
/// Builds the provider registry from dso.yaml: the `local` vault is always there (configured or
/// not), `file` providers read a JSON file; `vault`, `aws`, `azure` and `huawei` run as built-in plugins
/// (`docker-dso provider-plugin TYPE`) and `plugin` as the configured executable, both behind
/// retries and a circuit breaker.
/// </summary>
internal static class ProviderFactory
{
    /// <summary>The types that run as a plugin process, behind retries and a circuit breaker.</summary>
    public static readonly IReadOnlySet<string> PluginTypes = new HashSet<string>(["vault", "aws", "azure", "huawei", "plugin"], StringComparer.Ordinal);

    /// <param name="config">The loaded dso.yaml.</param>
    /// <param name="openVault">Opens the local vault; given the vault and key paths dso.yaml sets, if any.</param>
    /// <param name="owned">Providers to dispose when the caller is done.</param>
    /// <param name="host">Environment, log and clock for plugin providers.</param>
    public static ProviderRegistry Create(DsoConfig config, Func<string?, string?, LocalVault> openVault, List<IDisposable> owned, PluginHost host)
    {
        var providers = new List<(string, Func<ISecretProvider>)>();
        if (!config.Providers.ContainsKey("local"))
        {
            providers.Add(("local", () => Own(new VaultSecretProvider(() => openVault(null, null)), owned)));
        }

        foreach (var (name, provider) in config.Providers)
        {
            providers.Add((name, provider.Type switch
            {
                "local" => () => Own(new VaultSecretProvider(() => openVault(provider.VaultFile, provider.MasterKeyFile)), owned),
                "file" => () => new FileSecretProvider(name, provider.Path!),
                var type when host.UntrustedConfig is { } untrusted && PluginTypes.Contains(type!) => () => new UncheckedProvider(name, type!, untrusted),
                var type when PluginTypes.Contains(type!) => () => Own(Plugin(name, provider, LaunchFor(provider, host), host), owned),
                var type => throw new InvalidOperationException($"provider type {type} passed validation but has no implementation"),
            }));
        }

        return new ProviderRegistry(providers, ConfigLoader.DefaultProvider(config));
    }

    /// <summary>
    /// How a provider that runs as a plugin is started: the built-in ones as `docker-dso
    /// provider-plugin TYPE`, `plugin` as its command; the environment is the allow-list, with what
    /// the type's own credentials need (<paramref name="extraEnv"/> adds names, for `provider test --env`).
    /// </summary>
    public static PluginLaunch LaunchFor(ProviderConfig provider, PluginHost host, IEnumerable<string>? extraEnv = null)
    {
        string[] own = provider.Type switch
        {
            "vault" => provider.Auth.Method == "iam_role" ? ["VAULT_TOKEN", .. AwsEnvironment] : ["VAULT_TOKEN"],
            "aws" => AwsEnvironment,
            "azure" => AzureEnvironment,
            "huawei" => ["HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID"],
            _ => [],
        };
        var environment = PluginLaunch.EnvironmentFor([.. provider.Env, .. own, .. extraEnv ?? []], host.Variable);
        return provider.Type == "plugin"
            ? new PluginLaunch(provider.Command!, provider.Args, environment)
            : new PluginLaunch(host.BuiltInCommand, ["provider-plugin", provider.Type!], environment);
    }

    /// <summary>What AWSSDK.Core's credential chain reads (HOME for ~/.aws), passed to the aws plugin when set.</summary>
    private static readonly string[] AwsEnvironment =
    [
        "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    ];

    /// <summary>What Azure.Identity's credentials read (HOME for the Azure CLI's login), passed to the azure plugin when set.</summary>
    private static readonly string[] AzureEnvironment =
    [
        "HOME", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_CONFIG_DIR", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
    ];

    private static ResilientProvider Plugin(string name, ProviderConfig provider, PluginLaunch launch, PluginHost host) =>
        new(new PluginProvider(name, provider.Type!, launch, BackendConfig.Write(provider), provider.Timeout, host, [.. provider.Auth.Params.Values], provider.Protocol), provider, host.Time);

    private static T Own<T>(T provider, List<IDisposable> owned)
        where T : IDisposable
    {
        // Providers are made on first use, from any thread; the owner may be disposing the list meanwhile.
        lock (owned)
        {
            owned.Add(provider);
        }

        return provider;
    }
}
