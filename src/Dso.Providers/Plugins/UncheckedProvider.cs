namespace Dso.Providers.Plugins;

/// <summary>
/// A provider that is not started or contacted, because the dso.yaml naming it belongs to the
/// checkout being checked (`validate` without --allow-providers): such a file must not make a check
/// run a program of its choosing, or send the user's credentials (VAULT_TOKEN, AWS keys) to an
/// endpoint of its choosing. Each reference to it fails with the reason, so the check fails closed.
/// </summary>
internal sealed class UncheckedProvider(string name, string type, string configPath) : ISecretProvider
{
    public string Name => name;

    public Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ResolvedSecret>>([.. requests.Select(_ => ResolvedSecret.Missing(
            $"not checked: provider {name} (type {type}) is configured by {configPath}, in the project being checked, and validate starts or contacts no provider a project configures unless --allow-providers is given (pass it for a project you trust)"))]);
}
