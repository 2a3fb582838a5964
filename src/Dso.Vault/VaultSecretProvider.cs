using Dso.Providers;

namespace Dso.Vault;

/// <summary>The local vault as a provider (name `local`, the default). Versions are numbers.</summary>
public sealed class VaultSecretProvider(Func<LocalVault> open) : ISecretProvider, IDisposable
{
    public const string ProviderName = "local";

    private readonly Lazy<LocalVault> _vault = new(open);

    public string Name => ProviderName;

    public Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var results = new List<ResolvedSecret>(requests.Count);
        foreach (var request in requests)
        {
            if (Secrets.SecretName.Problem(request.Path) is { } problem)
            {
                results.Add(ResolvedSecret.Missing($"'{request.Path}' is not a local vault name: {problem}"));
                continue;
            }

            uint? version = null;
            if (request.Version is { } text)
            {
                if (!uint.TryParse(text, out var number) || number == 0)
                {
                    results.Add(ResolvedSecret.Missing($"@{text}: local vault versions are numbers (1, 2, …)"));
                    continue;
                }

                version = number;
            }

            var value = _vault.Value.TryGet(request.Path, version);
            results.Add(value is null ? ResolvedSecret.Missing(_vault.Value.MissingMessage(request.Path, version)) : ResolvedSecret.Found(value));
        }

        return Task.FromResult<IReadOnlyList<ResolvedSecret>>(results);
    }

    public void Dispose()
    {
        if (_vault.IsValueCreated)
        {
            _vault.Value.Dispose();
        }
    }
}
