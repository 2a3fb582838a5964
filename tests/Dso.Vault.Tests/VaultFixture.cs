using System.Security.Cryptography;
using Dso.Secrets;
using Dso.Testing;

namespace Dso.Vault.Tests;

/// <summary>A key-file vault in a fresh temp directory.</summary>
internal sealed class VaultFixture : IDisposable
{
    private readonly TempDirectory _dir = new("dso-vault-");

    public VaultFixture()
    {
        VaultPath = _dir.Combine("home", "vault.dso");
        KeyPath = _dir.Combine("home", "vault.key");
        using var credential = KeyFile.Generate(KeyPath);
        LocalVault.Create(VaultPath, credential).Dispose();
    }

    public string VaultPath { get; }

    public string KeyPath { get; }

    public string Directory => _dir.Path;

    public LocalVault Open() => LocalVault.Open(VaultPath, _ => KeyFile.Read(KeyPath));

    public byte[] Bytes() => File.ReadAllBytes(VaultPath);

    public void Set(string name, string value)
    {
        using var vault = Open();
        using var secret = SecretValue.FromString(value);
        vault.Set(name, secret);
    }

    public static string Canary() => "canary-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Cheap Argon2 parameters so passphrase tests stay fast; the header records them.</summary>
    public static KdfParameters CheapPassphraseKdf() => new(KdfKind.Passphrase, 1024, 1, 1, RandomNumberGenerator.GetBytes(16));

    public void Dispose() => _dir.Dispose();
}
