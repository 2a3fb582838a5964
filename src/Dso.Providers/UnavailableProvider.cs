namespace Dso.Providers;

/// <summary>A configured provider whose type this build cannot talk to yet: every request fails, saying so.</summary>
internal sealed class UnavailableProvider(string name, string type) : ISecretProvider
{
    public string Name => name;

    public Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ResolvedSecret>>([.. requests.Select(_ =>
            ResolvedSecret.Missing($"provider {name} has type {type}, which this version of DSO cannot use yet (available: local, file, vault, aws, plugin)"))]);
}
