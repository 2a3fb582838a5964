using BenchmarkDotNet.Attributes;
using Dso.Native;
using Dso.Secrets;
using Dso.Vault;

namespace Dso.Bench;

/// <summary>
/// Reads and writes in a vault that holds 10,000 secrets. Baseline: a durable atomic write of a
/// file as large as that vault (temp file, fsync, rename, fsync of the directory) — the I/O floor
/// of any crash-safe single-file store, which every `set` pays once.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 10)]
public class VaultThroughputBenchmarks
{
    private const int Entries = 10_000;
    private string _dir = string.Empty;
    private LocalVault _vault = null!;
    private byte[] _sameSizeBytes = [];
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("dso-bench-vault-").FullName;
        using var key = KeyFile.Generate(Path.Combine(_dir, "v.key"));
        _vault = LocalVault.Create(Path.Combine(_dir, "v.dso"), key);
        var values = Enumerable.Range(0, Entries).Select(i => ($"bench/secret-{i:D5}", SecretValue.FromString($"value-{i}-{Guid.NewGuid()}"))).ToList();
        _vault.SetMany(values);
        values.ForEach(v => v.Item2.Dispose());
        _sameSizeBytes = File.ReadAllBytes(_vault.Path);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _vault.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "durable atomic write, same size")]
    public void DurableWriteOfSameSize()
    {
        var path = Path.Combine(_dir, "plain.bin");
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(_sameSizeBytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        UnixFiles.FsyncDirectory(_dir);
    }

    [Benchmark(Description = "set 1 secret (vault of 10,000)")]
    public SetOutcome SetOne()
    {
        using var value = SecretValue.FromString($"new-{_counter++}");
        return _vault.Set("bench/secret-05000", value);
    }

    [Benchmark(Description = "get 1 secret (vault of 10,000)")]
    public int GetOne()
    {
        using var value = _vault.Get("bench/secret-07777");
        return value.Length;
    }

    [Benchmark(Description = "list 10,000 names")]
    public int ListAll() => _vault.List().Count;
}
