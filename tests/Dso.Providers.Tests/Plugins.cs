using Dso.Configuration;
using Dso.Providers.Plugins;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>Providers built the way the CLI and the agent build them: from a dso.yaml through the real loader and factory.</summary>
internal sealed class ConfiguredProviders : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public ConfiguredProviders(TempDirectory directory, string yaml, Dictionary<string, string>? environment = null)
    {
        var path = directory.WriteFile("dso.yaml", yaml);
        var env = environment ?? [];
        Func<string, string?> variable = name => env.TryGetValue(name, out var value) ? value : name == "PATH" ? System.Environment.GetEnvironmentVariable("PATH") : null;
        var config = ConfigLoader.Load(path, variable, directory.Path).Config;
        Registry = ProviderFactory.Create(config, (_, _) => throw new InvalidOperationException("no local vault in these tests"), _owned, new PluginHost(variable, (provider, line) => Log.Add($"{provider}: {line}"), TimeProvider.System, PluginHost.SelfCommand));
    }

    public ProviderRegistry Registry { get; }

    public List<string> Log { get; } = [];

    public ISecretProvider this[string name] => Registry.Get(name);

    public void Dispose() => _owned.ForEach(o => o.Dispose());
}

internal static class ProviderCalls
{
    public static async Task<List<(string? Value, string? Error, bool Transient)>> ResolveAsync(this ISecretProvider provider, params string[] paths)
    {
        var answers = await provider.ResolveAsync([.. paths.Select(ParseRequest)], TestContext.Current.CancellationToken);
        return [.. answers.Select(a =>
        {
            using (a.Value)
            {
                return (a.Value?.RevealString(), a.Error, a.Transient);
            }
        })];
    }

    public static async Task<List<SecretVersion>> VersionsAsync(this ISecretProvider provider, params string[] paths) =>
        [.. await ((IVersionedProvider)provider).VersionsAsync([.. paths.Select(ParseRequest)], TestContext.Current.CancellationToken)];

    private static SecretRequest ParseRequest(string path) =>
        path.Split('@') is [var p, var v] ? new SecretRequest(p, v) : new SecretRequest(path, null);
}
