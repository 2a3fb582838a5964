namespace Dso.Vault;

/// <summary>The key derivation recorded in the header, so a vault opens with the parameters it was made with.</summary>
internal sealed record KdfParameters(KdfKind Kind, uint MemoryKiB, uint Passes, uint Parallelism, byte[] Salt)
{
    /// <summary>Argon2id, 128 MiB, 3 passes, parallelism 1 (libsodium supports 1 only).</summary>
    public static KdfParameters NewPassphrase(byte[] salt) => new(KdfKind.Passphrase, 128 * 1024, 3, 1, salt);

    public static KdfParameters NewKeyFile(byte[] salt) => new(KdfKind.KeyFile, 0, 0, 0, salt);
}
