using Dso.Providers;

namespace Dso.Vault;

/// <summary>
/// The local vault as a provider (name `local`, the default). Versions are numbers, read from the
/// entries' metadata without decrypting a value; the vault file can be watched for changes. When
/// another process rekeys the vault, it is opened again (with the credential <paramref name="open"/>
/// reads now) rather than failing every request until a restart.
/// </summary>
public sealed class VaultSecretProvider(Func<LocalVault> open, string? path = null) : ISecretProvider, IVersionedProvider, IWatchableProvider, IDisposable
{
    public const string ProviderName = "local";

    private readonly Lock _gate = new();
    private LocalVault? _vault;

    public string Name => ProviderName;

    public string WatchedFile => path ?? Read(v => v.Path);

    public Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        return Task.FromResult(Read<IReadOnlyList<SecretVersion>>(vault =>
        {
            var latest = vault.List().ToDictionary(i => i.Name, StringComparer.Ordinal);
            return [.. requests.Select(r => latest.TryGetValue(r.Path, out var info)
                ? new SecretVersion(info.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), info.UpdatedAt)
                : new SecretVersion(null, null, vault.MissingMessage(r.Path, null)))];
        }));
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

            results.Add(Read(vault => vault.TryGet(request.Path, version) is { } value
                ? ResolvedSecret.Found(value)
                : ResolvedSecret.Missing(vault.MissingMessage(request.Path, version))));
        }

        return Task.FromResult<IReadOnlyList<ResolvedSecret>>(results);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _vault?.Dispose();
            _vault = null;
        }
    }

    /// <summary>Runs <paramref name="read"/> on the open vault (opening it the first time); once more after reopening it when it was rekeyed.</summary>
    private T Read<T>(Func<LocalVault, T> read)
    {
        lock (_gate)
        {
            _vault ??= open();
            try
            {
                return read(_vault);
            }
            catch (VaultRekeyedException)
            {
                _vault.Dispose();
                _vault = null;
                _vault = open();
                return read(_vault);
            }
        }
    }
}
