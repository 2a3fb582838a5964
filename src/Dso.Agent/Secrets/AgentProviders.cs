using Dso.Agent.Observability;
using Dso.Configuration;
using Dso.Providers;
using Dso.Providers.Plugins;
using Dso.Vault;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Secrets;

/// <summary>
/// The agent's providers, built from dso.yaml, seen through the cache in two ways:
/// <see cref="Fresh"/> always asks the provider (registration, refresh) and <see cref="Cached"/>
/// serves fresh cached values first (repairs). The local vault is opened without a terminal:
/// DSO_MASTER_KEY, the key file, or DSO_PASSPHRASE. A reload of dso.yaml builds a new set and
/// <see cref="Swap"/>s it in; calls already under way finish on the old set, which is disposed a
/// minute later (its plugin processes end then).
/// </summary>
internal sealed partial class AgentProviders : IDisposable
{
    private static readonly TimeSpan RetiredLifetime = TimeSpan.FromMinutes(1);
    private readonly Func<string, string?> _variable;
    private readonly SecretCache _cache;
    private readonly ProviderHealthBook _health;
    private readonly DsoMetrics _metrics;
    private readonly SecretRedactor _redactor;
    private readonly VersionLedger _ledger;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly List<Generation> _retired = [];
    private volatile Generation _current;

    public AgentProviders(DsoConfig config, Func<string, string?> variable, SecretCache cache, ProviderHealthBook health, DsoMetrics metrics, SecretRedactor redactor, VersionLedger ledger, ILogger log)
    {
        (_variable, _cache, _health, _metrics, _redactor, _ledger, _log) = (variable, cache, health, metrics, redactor, ledger, log);
        _current = Build(config, new HashSet<string>(StringComparer.Ordinal));
        Declare(_current, config);
    }

    /// <summary>The providers themselves, for version checks and file watches (never for values: those go through the cache).</summary>
    public ProviderRegistry Base => _current.Base;

    public ProviderRegistry Fresh => _current.Fresh;

    public ProviderRegistry Cached => _current.Cached;

    /// <summary>For rotations: cached values whose version was confirmed after they were fetched, the provider for the rest.</summary>
    public ProviderRegistry Current => _current.Current;

    /// <summary>
    /// A provider set for <paramref name="config"/>, not yet in use (dispose it if it is not swapped
    /// in). Providers in <paramref name="changed"/> start a new cache epoch: their values are cached
    /// under a name of their own, apart from those the old settings fetched.
    /// </summary>
    public Generation Build(DsoConfig config, IReadOnlySet<string> changed)
    {
        var owned = new List<IDisposable>();
        var baseRegistry = ProviderFactory.Create(
            config,
            (vaultFile, keyFile) => VaultUnlocker.Open(VaultUnlocker.WithPaths(VaultSettings.FromEnvironment(_variable), vaultFile, keyFile, _variable("HOME"), "/")),
            owned,
            PluginHost.Default(_variable, (provider, line) => LogPlugin(_log, provider, _redactor.Redact(line))));
        // The first set (no current one yet) starts every provider at epoch 0.
        var current = _current?.Epochs;
        var epochs = baseRegistry.Names.ToDictionary(n => n, n => (current?.GetValueOrDefault(n) ?? 0) + (changed.Contains(n) ? 1 : 0), StringComparer.Ordinal);

        ProviderRegistry Wrap(bool preferCache, VersionLedger? confirmedBy = null) => new(
            [.. baseRegistry.Names.Select(name => (name, (Func<ISecretProvider>)(() => new CachingProvider(baseRegistry.Get(name), _cache, preferCache, _health, _metrics, _redactor, confirmedBy, CacheName(name, epochs[name])))))],
            baseRegistry.DefaultName);
        return new Generation(baseRegistry, Wrap(preferCache: false), Wrap(preferCache: true), Wrap(preferCache: false, _ledger), owned, epochs);
    }

    /// <summary>The name values of a provider's settings epoch are cached under (epoch 0: the provider's own name).</summary>
    public static string CacheName(string provider, int epoch) => epoch == 0 ? provider : $"{provider}\n{epoch}";

    /// <summary>
    /// Puts <paramref name="next"/> (built for <paramref name="config"/>) in use; the previous set is
    /// disposed a minute later. Cached values of a provider whose epoch moved are dropped now, and
    /// again when the old set goes (a call that was still running may have added one).
    /// </summary>
    public void Swap(Generation next, DsoConfig config)
    {
        Generation previous;
        lock (_gate)
        {
            previous = _current;
            _current = next;
            _retired.Add(previous);
        }

        var stale = previous.Epochs.Where(e => !next.Epochs.TryGetValue(e.Key, out var now) || now != e.Value).Select(e => CacheName(e.Key, e.Value)).ToList();
        stale.ForEach(name => _cache.Evict(name));
        _health.Retain(next.Base.Names);
        Declare(next, config);
        _ = RetireAsync(previous, stale);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _retired.ForEach(g => g.Dispose());
            _retired.Clear();
            _current.Dispose();
        }
    }

    private async Task RetireAsync(Generation previous, List<string> staleCacheNames)
    {
        await Task.Delay(RetiredLifetime).ConfigureAwait(false);
        bool mine;
        lock (_gate)
        {
            mine = _retired.Remove(previous);
        }

        if (mine)
        {
            try
            {
                previous.Dispose();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
            {
                _log.LogWarning("disposing the providers a reload replaced: {Error}", e.Message);
            }

            staleCacheNames.ForEach(name => _cache.Evict(name));
        }
    }

    private void Declare(Generation generation, DsoConfig config)
    {
        var registry = generation.Base;
        foreach (var name in registry.Names)
        {
            var type = config.Providers.TryGetValue(name, out var provider) ? provider.Type! : "local";
            _health.Declare(name, type, insecure: type == "file", circuit: ProviderFactory.PluginTypes.Contains(type) ? () => registry.Get(name) is ResilientProvider resilient ? resilient.CircuitState : "closed" : null);
        }
    }

    [LoggerMessage(EventId = 470, Level = LogLevel.Information, Message = "provider {Provider} plugin: {Line}")]
    private static partial void LogPlugin(ILogger log, string provider, string line);

    /// <summary>One set of providers from one dso.yaml: the registry and its three views through the cache.</summary>
    internal sealed class Generation(ProviderRegistry baseRegistry, ProviderRegistry fresh, ProviderRegistry cached, ProviderRegistry current, List<IDisposable> owned, IReadOnlyDictionary<string, int> epochs) : IDisposable
    {
        /// <summary>Each provider's cache epoch in this set.</summary>
        public IReadOnlyDictionary<string, int> Epochs => epochs;

        public ProviderRegistry Base => baseRegistry;

        public ProviderRegistry Fresh => fresh;

        public ProviderRegistry Cached => cached;

        public ProviderRegistry Current => current;

        public void Dispose()
        {
            // Providers are made on first use, possibly while this runs: dispose a snapshot.
            IDisposable[] snapshot;
            lock (owned)
            {
                snapshot = [.. owned];
            }

            foreach (var item in snapshot)
            {
                item.Dispose();
            }
        }
    }
}
