using Dso.Configuration;
using Dso.Providers.File;
using Dso.Providers.Plugins;
using Dso.Vault;

namespace Dso.Providers;

/// <summary>
/// Builds the provider registry from dso.yaml: the `local` vault is always there (configured or
/// not), `file` providers read a JSON file; `vault` and `aws` run as built-in plugins
/// (`docker-dso provider-plugin TYPE`) and `plugin` as the configured executable, both behind
/// retries and a circuit breaker, as does `aws`; `azure` and `huawei` are known but not available yet.
/// </summary>
internal static class ProviderFactory
{
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
                "vault" => () => Own(Plugin(name, provider, new PluginLaunch(host.BuiltInCommand, ["provider-plugin", "vault"], PluginLaunch.EnvironmentFor([.. provider.Env, "VAULT_TOKEN"], host.Variable)), host), owned),
                "aws" => () => Own(Plugin(name, provider, new PluginLaunch(host.BuiltInCommand, ["provider-plugin", "aws"], PluginLaunch.EnvironmentFor([.. provider.Env, .. AwsEnvironment], host.Variable)), host), owned),
                "plugin" => () => Own(Plugin(name, provider, new PluginLaunch(provider.Command!, provider.Args, PluginLaunch.EnvironmentFor(provider.Env, host.Variable)), host), owned),
                var type => () => new UnavailableProvider(name, type!),
            }));
        }

        return new ProviderRegistry(providers, ConfigLoader.DefaultProvider(config));
    }

    /// <summary>What AWSSDK.Core's credential chain reads (HOME for ~/.aws), passed to the aws plugin when set.</summary>
    public static readonly string[] AwsEnvironment =
    [
        "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    ];

    private static ResilientProvider Plugin(string name, ProviderConfig provider, PluginLaunch launch, PluginHost host) =>
        new(new PluginProvider(name, provider.Type!, launch, BackendConfig.Write(provider), provider.Timeout, host, [.. provider.Auth.Params.Values]), provider, host.Time);

    private static T Own<T>(T provider, List<IDisposable> owned)
        where T : IDisposable
    {
        owned.Add(provider);
        return provider;
    }
}
