using Dso.Providers;

namespace Dso.Vault;

/// <summary>
/// The local vault as a provider (name `local`, the default). Versions are numbers, read from the
/// entries' metadata without decrypting a value; the vault file can be watched for changes.
/// </summary>
public sealed class VaultSecretProvider(Func<LocalVault> open, string? path = null) : ISecretProvider, IVersionedProvider, IWatchableProvider, IDisposable
{
    public const string ProviderName = "local";

    private readonly Lazy<LocalVault> _vault = new(open);

    public string Name => ProviderName;

    public string WatchedFile => path ?? _vault.Value.Path;

    public Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var latest = _vault.Value.List().ToDictionary(i => i.Name, StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<SecretVersion>>([.. requests.Select(r => latest.TryGetValue(r.Path, out var info)
            ? new SecretVersion(info.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), info.UpdatedAt)
            : new SecretVersion(null, null, _vault.Value.MissingMessage(r.Path, null)))]);
    }

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
