namespace Dso.Providers.Plugins;

/// <summary>
/// A `type: plugin` provider whose command was not started, because the command that loaded
/// dso.yaml only checks a checkout (`validate`) and the user did not pass --allow-plugins: a
/// checkout's dso.yaml must not make a check run a program of its choosing. Each reference to it
/// fails with the reason, so the check fails closed.
/// </summary>
internal sealed class UnstartedPlugin(string name, string command) : ISecretProvider
{
    public string Name => name;

    public Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ResolvedSecret>>([.. requests.Select(_ => ResolvedSecret.Missing(
            $"not checked: provider {name} runs the program '{Dso.Secrets.SecretReference.Printable(command, 200)}', and validate runs no program a dso.yaml names unless --allow-plugins is given (pass it for a checkout you trust)"))]);
}
