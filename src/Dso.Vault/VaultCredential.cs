using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Dso.Vault;

/// <summary>
/// What unlocks a vault: a passphrase (Argon2id) or a 256-bit key (HKDF). The material lives in a
/// pinned buffer that is zeroed on dispose.
/// </summary>
public sealed class VaultCredential : IDisposable
{
    private readonly byte[] _material;

    private VaultCredential(KdfKind kind, ReadOnlySpan<byte> material)
    {
        Kind = kind;
        _material = GC.AllocateUninitializedArray<byte>(material.Length, pinned: true);
        material.CopyTo(_material);
    }

    public KdfKind Kind { get; }

    public static VaultCredential FromPassphrase(string passphrase)
    {
        if (passphrase.Length == 0)
        {
            throw new DsoException("the passphrase is empty; choose one of at least 8 characters");
        }

        var bytes = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            return new VaultCredential(KdfKind.Passphrase, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public static VaultCredential FromKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != VaultFormat.KeySize)
        {
            throw new DsoException($"a vault key is {VaultFormat.KeySize} bytes (256 bits), not {key.Length}");
        }

        return new VaultCredential(KdfKind.KeyFile, key);
    }

    /// <summary>Derives the key-encryption key for a vault made with <paramref name="parameters"/>.</summary>
    internal byte[] DeriveKeyEncryptionKey(KdfParameters parameters)
    {
        if (parameters.Kind != Kind)
        {
            throw new DsoException(parameters.Kind == KdfKind.Passphrase
                ? "this vault is protected by a passphrase, but a key was given; unset DSO_MASTER_KEY/DSO_KEY_FILE and give the passphrase (prompt or DSO_PASSPHRASE)"
                : "this vault is protected by a key file, but a passphrase was given; give the key with DSO_KEY_FILE or DSO_MASTER_KEY");
        }

        var kek = GC.AllocateUninitializedArray<byte>(VaultFormat.KeySize, pinned: true);
        if (Kind == KdfKind.Passphrase)
        {
            var argon2 = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
            {
                DegreeOfParallelism = (int)parameters.Parallelism,
                MemorySize = parameters.MemoryKiB,
                NumberOfPasses = parameters.Passes,
            });
            argon2.DeriveBytes(_material, parameters.Salt, kek);
        }
        else
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, _material, kek, parameters.Salt, VaultFormat.KeyFileInfo);
        }

        return kek;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_material);
}
