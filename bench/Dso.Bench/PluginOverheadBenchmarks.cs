using BenchmarkDotNet.Attributes;
using Dso.Configuration;
using Dso.Fakes;
using Dso.Providers;
using Dso.Providers.Aws;
using Dso.Providers.Plugins;

namespace Dso.Bench;

/// <summary>
/// One batch of 20 current values from Secrets Manager (the fake on loopback), through the plugin
/// protocol — the agent's path: JSON-RPC over the pipes of a `docker-dso provider-plugin aws`
/// process — against the baseline of the same backend code called in process. The difference is
/// what isolating a provider in its own process costs per batch.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 20)]
public class PluginOverheadBenchmarks
{
    private const int Batch = 20;
    private FakeSecretsManager _aws = null!;
    private AwsBackend _inProcess = null!;
    private PluginProvider _plugin = null!;
    private SecretRequest[] _requests = [];

    [GlobalSetup]
    public void Setup()
    {
        _aws = new FakeSecretsManager();
        _aws.StartAsync().GetAwaiter().GetResult();
        _requests = [.. Enumerable.Range(0, Batch).Select(i => new SecretRequest($"bench/secret-{i:D2}", null))];
        foreach (var request in _requests)
        {
            _aws.Put(request.Path, $"value-of-{request.Path}-{Guid.NewGuid()}");
        }

        var provider = new ProviderConfig
        {
            Type = "aws",
            Region = FakeSecretsManager.Region,
            Endpoint = _aws.Address.ToString(),
            Auth = new ProviderAuthConfig { Method = "static", Params = new() { ["access_key_id"] = FakeSecretsManager.AccessKey, ["secret_access_key"] = FakeSecretsManager.SecretKey } },
        };
        var config = BackendConfig.Write(provider);
        using (var document = System.Text.Json.JsonDocument.Parse(config))
        {
            _inProcess = new AwsBackend(BackendConfig.Read(document.RootElement), TimeProvider.System);
        }

        var command = Environment.GetEnvironmentVariable("DSO_BENCH_CLI") ?? PluginHost.SelfCommand;
        var host = new PluginHost(Environment.GetEnvironmentVariable, null, TimeProvider.System, command);
        _plugin = new PluginProvider("aws", "aws", new PluginLaunch(command, ["provider-plugin", "aws"], PluginLaunch.EnvironmentFor([], Environment.GetEnvironmentVariable)), config, provider.Timeout, host, []);
        if (Resolve(_plugin.ResolveAsync(_requests, CancellationToken.None)) != Batch || Resolve(_inProcess.ResolveAsync(_requests, CancellationToken.None)) != Batch)
        {
            throw new InvalidOperationException("the fake did not answer every secret");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plugin.Dispose();
        _inProcess.Dispose();
        _aws.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "20 values, backend in process")]
    public int InProcess() => Resolve(_inProcess.ResolveAsync(_requests, CancellationToken.None));

    [Benchmark(Description = "20 values, through the plugin process")]
    public int ThroughThePlugin() => Resolve(_plugin.ResolveAsync(_requests, CancellationToken.None));

    private static int Resolve(Task<IReadOnlyList<ResolvedSecret>> call)
    {
        var found = 0;
        foreach (var answer in call.GetAwaiter().GetResult())
        {
            found += answer.Value is null ? 0 : 1;
            answer.Value?.Dispose();
        }

        return found;
    }
}
