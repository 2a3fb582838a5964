using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>
/// A misbehaving plugin (tests/plugins/chaos_plugin.py) cannot hurt its host: each misdeed becomes
/// a transient failure that names the provider, the process is replaced, and the next call works.
/// </summary>
public sealed class PluginChaosTests
{
    [Theory]
    [InlineData("crash", "exited during resolve")]
    [InlineData("hang", "did not answer resolve within 1 s")]
    [InlineData("garbage", "broke the protocol during resolve: the message is not valid JSON")]
    [InlineData("huge", "longer than 1048576 bytes")]
    [InlineData("wrong-id", "does not carry the request's id")]
    public async Task AMisbehavingPlugin_FailsTheCallSayingWhy_AndIsReplacedForTheNext(string mode, string expected)
    {
        using var dir = new TempDirectory();
        using var chaos = new Chaos(dir);
        chaos.Mode("ok");
        Assert.Equal("value-of-a", (await chaos.Provider.ResolveAsync("a"))[0].Value);
        var pid = chaos.Plugin.Pid;

        chaos.Mode(mode);
        var started = DateTime.UtcNow;
        var failed = (await chaos.Provider.ResolveAsync("a"))[0];
        chaos.Mode("ok");
        var recovered = await chaos.Provider.ResolveAsync("b", "c", "d", "e");

        Assert.Null(failed.Value);
        Assert.True(failed.Transient);
        Assert.Contains("plugin chaos", failed.Error, StringComparison.Ordinal);
        Assert.Contains(expected, failed.Error, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "a hung plugin is cut off at its deadline");
        Assert.Equal(["value-of-b", "value-of-c", "value-of-d", "value-of-e"], recovered.Select(r => r.Value));
        Assert.Equal(2, chaos.Plugin.Starts);
        Assert.NotEqual(pid, chaos.Plugin.Pid);
        Assert.False(ProcessIsAlive(pid!.Value), "the misbehaving process is gone");
    }

    [Fact]
    public async Task APluginThatKeepsFailingToStart_IsRestartedWithBackoff_NotInALoop()
    {
        using var dir = new TempDirectory();
        using var chaos = new Chaos(dir, extra: "    circuit:\n      failures: 100\n");
        chaos.Mode("exit-at-start");

        var answers = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await chaos.Provider.ResolveAsync("a"))[0].Error);
        }

        Assert.Equal(1, chaos.Plugin.Starts);
        Assert.Contains("exited during initialize", answers[0], StringComparison.Ordinal);
        Assert.All(answers.Skip(1), a => Assert.Contains("waiting", a, StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(1.2), TestContext.Current.CancellationToken);
        chaos.Mode("ok");
        Assert.Equal("value-of-a", (await chaos.Provider.ResolveAsync("a"))[0].Value);
        Assert.Equal(2, chaos.Plugin.Starts);
    }

    [Fact]
    public async Task ThePluginSeesOnlyItsAllowList_AndItsStderrIsLoggedWithoutItsCredentials()
    {
        using var dir = new TempDirectory();
        using var chaos = new Chaos(dir, extra: "    env: [CHAOS_TOKEN]\n    auth:\n      params:\n        token: ${CHAOS_TOKEN}\n", environment: new() { ["CHAOS_TOKEN"] = "tok-SENSITIVE-4711", ["AWS_SECRET_ACCESS_KEY"] = "must-not-pass" });
        chaos.Mode("stderr");

        Assert.Equal("value-of-a", (await chaos.Provider.ResolveAsync("a"))[0].Value);
        var environ = await System.IO.File.ReadAllTextAsync($"/proc/{chaos.Plugin.Pid}/environ", TestContext.Current.CancellationToken);
        await WaitForAsync(() => chaos.Providers.Log.Any(l => l.Contains("debug: using token", StringComparison.Ordinal)));

        Assert.Contains("CHAOS_TOKEN=", environ, StringComparison.Ordinal);
        Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", environ, StringComparison.Ordinal);
        Assert.DoesNotContain("HOME=", environ, StringComparison.Ordinal);
        Assert.Contains(chaos.Providers.Log, l => l.Contains("chaos: debug: using token [redacted]", StringComparison.Ordinal));
        Assert.DoesNotContain(chaos.Providers.Log, l => l.Contains("SENSITIVE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BatchesAreSplitAtThePluginsMaxBatch_AndAnswersKeepRequestOrder()
    {
        using var dir = new TempDirectory();
        using var chaos = new Chaos(dir);
        chaos.Mode("ok");
        var paths = Enumerable.Range(0, 10).Select(i => $"p{i}").ToArray();

        var answers = await chaos.Provider.ResolveAsync(paths);

        Assert.Equal(paths.Select(p => "value-of-" + p), answers.Select(a => a.Value));
        Assert.Equal(3, chaos.Plugin.Capabilities!.MaxBatch);
    }

    [Fact]
    public async Task TheExamplePlugin_PassesTheConformanceKit_ThroughTheCli()
    {
        using var dir = new TempDirectory();
        var store = dir.WriteFile("store.json", "{\"app/db\": \"one\", \"app/api\": \"two\"}");
        var config = dir.WriteFile("config.json", $"{{\"file\": \"{store}\"}}");

        var run = await VaultProviderTests.RunAsync(Dso.Providers.Plugins.PluginHost.SelfCommand, "provider", "test", "--plugin-config", config, "--secret", "app/db", "--secret", "app/api", "--", "/usr/bin/python3", Path.Combine(TestPaths.Repository, "examples", "provider-plugin", "provider.py"));

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("13 passed, 0 failed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheConformanceKit_FailsAPluginThatBreaksTheProtocol()
    {
        using var dir = new TempDirectory();
        var mode = dir.WriteFile("mode", "garbage");

        var run = await VaultProviderTests.RunAsync(Dso.Providers.Plugins.PluginHost.SelfCommand, "provider", "test", "--secret", "a", "--", "/usr/bin/python3", Path.Combine(TestPaths.Repository, "tests", "plugins", "chaos_plugin.py"), mode);

        Assert.Equal(1, run.Code);
        Assert.Contains("FAIL  resolve", run.Output, StringComparison.Ordinal);
    }

    private static bool ProcessIsAlive(int pid) =>
        System.IO.File.Exists($"/proc/{pid}/stat") && !System.IO.File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 50 && !condition(); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private sealed class Chaos : IDisposable
    {
        private readonly string _mode;

        public Chaos(TempDirectory dir, string extra = "", Dictionary<string, string>? environment = null)
        {
            _mode = dir.Combine("mode");
            var script = Path.Combine(TestPaths.Repository, "tests", "plugins", "chaos_plugin.py");
            Providers = new ConfiguredProviders(dir, $"providers:\n  chaos:\n    type: plugin\n    command: /usr/bin/python3\n    args: [{script}, {_mode}]\n    timeout: 1s\n    retry:\n      attempts: 1\n{extra}", environment);
        }

        public ConfiguredProviders Providers { get; }

        public ISecretProvider Provider => Providers["chaos"];

        public Plugins.PluginProvider Plugin => (Plugins.PluginProvider)((ResilientProvider)Provider).Inner;

        public void Mode(string mode) => System.IO.File.WriteAllText(_mode, mode);

        public void Dispose() => Providers.Dispose();
    }
}
