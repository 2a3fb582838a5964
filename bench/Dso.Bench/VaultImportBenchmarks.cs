using BenchmarkDotNet.Attributes;
using Dso.Secrets;
using Dso.Vault;

namespace Dso.Bench;

/// <summary>
/// Importing 10,000 secrets into an empty vault in one write (what `secret import` does).
/// Baseline: durably writing the same 10,000 KEY=VALUE lines as a plaintext .env file — what the
/// vault replaces.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5)]
public class VaultImportBenchmarks
{
    private const int Entries = 10_000;
    private string _dir = string.Empty;
    private string _keyPath = string.Empty;
    private int _round;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("dso-bench-import-").FullName;
        _keyPath = Path.Combine(_dir, "v.key");
        KeyFile.Generate(_keyPath).Dispose();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true, Description = "write the same 10,000 lines as a plaintext .env")]
    public void PlaintextEnvFile()
    {
        var path = Path.Combine(_dir, $"plain{_round++}.env");
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var writer = new StreamWriter(stream);
        for (var i = 0; i < Entries; i++)
        {
            writer.Write($"SECRET_{i:D5}=value-{i}\n");
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    [Benchmark(Description = "import 10,000 secrets in one write")]
    public int Import()
    {
        using var key = KeyFile.Read(_keyPath);
        using var vault = LocalVault.Create(Path.Combine(_dir, $"v{_round++}.dso"), key);
        var values = Enumerable.Range(0, Entries).Select(i => ($"bench/secret-{i:D5}", SecretValue.FromString($"value-{i}"))).ToList();
        var outcomes = vault.SetMany(values);
        values.ForEach(v => v.Item2.Dispose());
        return outcomes.Count;
    }
}
