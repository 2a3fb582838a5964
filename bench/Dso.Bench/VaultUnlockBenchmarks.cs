using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Dso.Vault;
using NSec.Cryptography;

namespace Dso.Bench;

/// <summary>
/// Unlocking the vault. Baseline: one bare Argon2id derivation at the vault's parameters
/// (128 MiB, 3 passes, parallelism 1) through libsodium — the floor any passphrase unlock pays.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5)]
public class VaultUnlockBenchmarks
{
    private const string Passphrase = "correct horse battery staple";
    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(16);
    private string _dir = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("dso-bench-unlock-").FullName;
        using (var credential = VaultCredential.FromPassphrase(Passphrase))
        {
            LocalVault.Create(Path.Combine(_dir, "pass.dso"), credential).Dispose();
        }

        using var key = KeyFile.Generate(Path.Combine(_dir, "key.key"));
        LocalVault.Create(Path.Combine(_dir, "key.dso"), key).Dispose();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true, Description = "bare Argon2id (libsodium), 128 MiB x3")]
    public byte[] BareArgon2id() =>
        PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = 128 * 1024, NumberOfPasses = 3 })
            .DeriveBytes(Encoding.UTF8.GetBytes(Passphrase), _salt, 32);

    [Benchmark(Description = "open passphrase vault")]
    public int OpenPassphraseVault()
    {
        using var vault = LocalVault.Open(Path.Combine(_dir, "pass.dso"), _ => VaultCredential.FromPassphrase(Passphrase));
        return vault.List().Count;
    }

    [Benchmark(Description = "open key-file vault")]
    public int OpenKeyFileVault()
    {
        using var vault = LocalVault.Open(Path.Combine(_dir, "key.dso"), _ => KeyFile.Read(Path.Combine(_dir, "key.key")));
        return vault.List().Count;
    }
}
