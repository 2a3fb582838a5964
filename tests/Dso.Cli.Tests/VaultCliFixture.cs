using System.Text;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>A temp DSO_HOME and helpers to run vault commands against it, in-process.</summary>
internal sealed class VaultCliFixture : IDisposable
{
    private readonly TempDirectory _dir = new("dso-cli-");

    public VaultCliFixture(bool initialize = true, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        Environment = new Dictionary<string, string>
        {
            ["HOME"] = _dir.Path,
            ["DSO_HOME"] = _dir.Combine(".dso"),
        };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            Environment[key] = value;
        }

        if (initialize)
        {
            var init = RunAsync("init").GetAwaiter().GetResult();
            Assert.True(init.ExitCode == 0, init.ToString());
        }
    }

    public Dictionary<string, string> Environment { get; }

    public string Home => _dir.Path;

    public string VaultPath => _dir.Combine(".dso", "vault.dso");

    public string KeyPath => _dir.Combine(".dso", "vault.key");

    public Task<CliRun> RunAsync(byte[]? stdin, params string[] args) => CliHarness.RunAsync(Environment, _dir.Path, stdin, args);

    public Task<CliRun> RunAsync(params string[] args) => RunAsync(null, args);

    public async Task SetAsync(string name, string value)
    {
        var run = await RunAsync(Encoding.UTF8.GetBytes(value), "secret", "set", name);
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    public string WriteFile(string name, string content) => _dir.WriteFile(name, content);

    public void Dispose() => _dir.Dispose();
}
