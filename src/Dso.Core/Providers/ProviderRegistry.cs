namespace Dso.Providers;

/// <summary>
/// The configured providers, by name, and the default one (used by references without a
/// `PROVIDER:` prefix; null when the configuration leaves it open). Built once; a duplicate name
/// fails at construction.
/// </summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, Lazy<ISecretProvider>> _providers;

    public ProviderRegistry(IEnumerable<(string Name, Func<ISecretProvider> Factory)> providers, string? defaultName)
    {
        _providers = new Dictionary<string, Lazy<ISecretProvider>>(StringComparer.Ordinal);
        foreach (var (name, factory) in providers)
        {
            if (!_providers.TryAdd(name, new Lazy<ISecretProvider>(factory)))
            {
                throw new DsoException($"provider '{name}' is configured twice");
            }
        }

        DefaultName = defaultName is null || _providers.ContainsKey(defaultName)
            ? defaultName
            : throw new DsoException($"the default provider '{defaultName}' is not configured");
    }

    public string? DefaultName { get; }

    public IEnumerable<string> Names => _providers.Keys;

    public bool Contains(string name) => _providers.ContainsKey(name);

    /// <summary>The provider (created on first use, so an unused vault is never unlocked).</summary>
    public ISecretProvider Get(string name) =>
        _providers.TryGetValue(name, out var provider)
            ? provider.Value
            : throw new DsoException($"no provider named '{name}' is configured (known: {string.Join(", ", _providers.Keys)})");
}
