using System.Text.Json;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>
/// Provider plugins written for the original project (one `ResolveSecret` request per path, with
/// `path` and `config`, answered with `value`; tests/plugins/resolve_secret_plugin.py) keep working:
/// found out when they refuse initialize, or named in dso.yaml with `protocol: resolve-secret`.
/// </summary>
public sealed class ResolveSecretPluginTests
{
    private static readonly string Plugin = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "plugins", "resolve_secret_plugin.py");

    [Theory]
    [InlineData("")]
    [InlineData("    protocol: resolve-secret\n")]
    public async Task APluginOfTheOriginalProject_IsAskedInItsOwnProtocol_OnePathAtATime(string protocol)
    {
        using var dir = new TempDirectory();
        var values = dir.WriteFile("values.json", """{"myapp/db_password":"s3cr3t_p4ssword","myapp/api_key":"key-1"}""");
        var seen = dir.Combine("seen.jsonl");
        using var providers = new ConfiguredProviders(dir, $"providers:\n  legacy:\n    type: plugin\n    region: us-east-1\n    command: python3\n    args: [\"{Plugin}\", \"{values}\", \"{seen}\"]\n{protocol}");
        var provider = providers["legacy"];

        var answers = await provider.ResolveAsync("myapp/db_password", "myapp/api_key", "myapp/nope");
        var versions = await provider.VersionsAsync("myapp/db_password");
        var again = await provider.ResolveAsync("myapp/api_key");

        Assert.Equal("s3cr3t_p4ssword", answers[0].Value);
        Assert.Equal("key-1", answers[1].Value);
        Assert.Null(answers[2].Value);
        Assert.Contains("plugin legacy", answers[2].Error, StringComparison.Ordinal);
        Assert.Contains("secret not found: myapp/nope", answers[2].Error, StringComparison.Ordinal);
        Assert.Null(versions[0].Version);
        Assert.Equal("key-1", again[0].Value);

        // What the plugin was sent: the seed's request, {"path": …, "config": {"region": …}}, and
        // initialize only when dso.yaml left the protocol to be found out (refused: method not found).
        var calls = System.IO.File.ReadAllLines(seen).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var methods = calls.Select(c => c.GetProperty("method").GetString()).ToList();
        string[] resolves = ["ResolveSecret", "ResolveSecret", "ResolveSecret", "ResolveSecret"];
        Assert.Equal(protocol.Length == 0 ? ["initialize", .. resolves] : resolves, methods);
        var first = calls.First(c => c.GetProperty("method").GetString() == "ResolveSecret").GetProperty("params");
        Assert.Equal("myapp/db_password", first.GetProperty("path").GetString());
        Assert.Equal("us-east-1", first.GetProperty("config").GetProperty("region").GetString());
        if (protocol.Length == 0)
        {
            Assert.Contains(providers.Log, l => l.Contains("speaking the original project's ResolveSecret protocol", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ADsoPlugin_NamedAsAnOriginalOne_FailsEachPathSayingWhy()
    {
        using var dir = new TempDirectory();
        var chaos = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "plugins", "chaos_plugin.py");
        var mode = dir.WriteFile("mode", "ok");
        using var providers = new ConfiguredProviders(dir, $"providers:\n  wrong:\n    type: plugin\n    command: python3\n    args: [\"{chaos}\", \"{mode}\"]\n    protocol: resolve-secret\n");

        var answer = (await providers["wrong"].ResolveAsync("a"))[0];

        Assert.Null(answer.Value);
        Assert.True(answer.Transient);
        Assert.Contains("plugin wrong", answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheConformanceKit_SaysAnOriginalPluginSpeaksTheOriginalProtocol()
    {
        using var dir = new TempDirectory();
        var values = dir.WriteFile("values.json", """{"a":"1"}""");
        var kit = new Dso.Providers.Plugins.ConformanceKit(new Dso.Providers.Plugins.PluginLaunch("python3", [Plugin, values], new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH")! }), "{}"u8.ToArray(), ["a"], "none", TimeSpan.FromSeconds(10));

        var checks = await kit.RunAsync(TestContext.Current.CancellationToken);

        var initialize = Assert.Single(checks, c => c.Id == "initialize");
        Assert.False(initialize.Passed);
        Assert.Contains("protocol: resolve-secret", initialize.Detail, StringComparison.Ordinal);
    }
}
