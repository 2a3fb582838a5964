using Dso.Configuration;
using Dso.Providers.File;
using Dso.Vault;

namespace Dso.Providers;

/// <summary>
/// Builds the provider registry from dso.yaml: the `local` vault is always there (configured or
/// not), `file` providers read a JSON file, other types are known but not available yet.
/// </summary>
internal static class ProviderFactory
{
    /// <param name="config">The loaded dso.yaml.</param>
    /// <param name="openVault">Opens the local vault; given the vault and key paths dso.yaml sets, if any.</param>
    /// <param name="owned">Providers to dispose when the caller is done.</param>
    public static ProviderRegistry Create(DsoConfig config, Func<string?, string?, LocalVault> openVault, List<IDisposable> owned)
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
                var type => () => new UnavailableProvider(name, type!),
            }));
        }

        return new ProviderRegistry(providers, ConfigLoader.DefaultProvider(config));
    }

    private static T Own<T>(T provider, List<IDisposable> owned)
        where T : IDisposable
    {
        owned.Add(provider);
        return provider;
    }
}
