using Dso.Agent.Observability;
using Dso.Configuration;
using Dso.Providers;
using Dso.Providers.Plugins;
using Dso.Vault;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Secrets;

/// <summary>
/// The agent's providers, built once from dso.yaml, seen through the cache in two ways:
/// <see cref="Fresh"/> always asks the provider (registration, refresh) and <see cref="Cached"/>
/// serves fresh cached values first (repairs). The local vault is opened without a terminal:
/// DSO_MASTER_KEY, the key file, or DSO_PASSPHRASE.
/// </summary>
internal sealed partial class AgentProviders : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public AgentProviders(DsoConfig config, Func<string, string?> variable, SecretCache cache, ProviderHealthBook health, DsoMetrics metrics, SecretRedactor redactor, VersionLedger ledger, ILogger log)
    {
        var baseRegistry = ProviderFactory.Create(
            config,
            (vaultFile, keyFile) => VaultUnlocker.Open(VaultUnlocker.WithPaths(VaultSettings.FromEnvironment(variable), vaultFile, keyFile, variable("HOME"), "/")),
            _owned,
            PluginHost.Default(variable, (provider, line) => LogPlugin(log, provider, redactor.Redact(line))));
        foreach (var name in baseRegistry.Names)
        {
            var type = config.Providers.TryGetValue(name, out var provider) ? provider.Type! : "local";
            health.Declare(name, type, insecure: type == "file", circuit: ProviderFactory.PluginTypes.Contains(type) ? () => baseRegistry.Get(name) is ResilientProvider resilient ? resilient.CircuitState : "closed" : null);
        }

        ProviderRegistry Wrap(bool preferCache, VersionLedger? confirmedBy = null) => new(
            [.. baseRegistry.Names.Select(name => (name, (Func<ISecretProvider>)(() => new CachingProvider(baseRegistry.Get(name), cache, preferCache, health, metrics, redactor, confirmedBy))))],
            baseRegistry.DefaultName);
        Fresh = Wrap(preferCache: false);
        Cached = Wrap(preferCache: true);
        Current = Wrap(preferCache: false, ledger);
        Base = baseRegistry;
    }

    /// <summary>The providers themselves, for version checks and file watches (never for values: those go through the cache).</summary>
    public ProviderRegistry Base { get; }

    public ProviderRegistry Fresh { get; }

    public ProviderRegistry Cached { get; }

    /// <summary>For rotations: cached values whose version was confirmed after they were fetched, the provider for the rest.</summary>
    public ProviderRegistry Current { get; }

    public void Dispose() => _owned.ForEach(o => o.Dispose());

    [LoggerMessage(EventId = 470, Level = LogLevel.Information, Message = "provider {Provider} plugin: {Line}")]
    private static partial void LogPlugin(ILogger log, string provider, string line);
}
