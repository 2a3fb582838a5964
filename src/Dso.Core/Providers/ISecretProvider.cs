namespace Dso.Providers;

/// <summary>
/// A source of secrets (spec 7): the local vault, a cloud secret store, a plugin. One call
/// resolves a batch; answers come back in request order.
/// </summary>
public interface ISecretProvider
{
    /// <summary>The name references use before ':' (`dso://NAME:path`).</summary>
    string Name { get; }

    Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken);
}
