using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dso.Vault;

/// <summary>
/// The 100-byte header: magic, format version, KDF and its parameters, salt, and the data key
/// wrapped (AES-256-GCM) under the key-encryption key with header bytes 0–39 as associated data,
/// so editing any KDF field makes unwrapping fail.
/// </summary>
internal sealed class VaultHeader
{
    private VaultHeader(KdfParameters kdf, byte[] wrapNonce, byte[] wrappedKey)
    {
        Kdf = kdf;
        WrapNonce = wrapNonce;
        WrappedKey = wrappedKey;
    }

    public KdfParameters Kdf { get; }

    public byte[] WrapNonce { get; }

    /// <summary>Ciphertext of the data key followed by its tag (48 bytes).</summary>
    public byte[] WrappedKey { get; }

    public static VaultHeader Wrap(KdfParameters kdf, ReadOnlySpan<byte> keyEncryptionKey, ReadOnlySpan<byte> dataKey)
    {
        var nonce = RandomNumberGenerator.GetBytes(VaultFormat.NonceSize);
        var wrapped = new byte[VaultFormat.KeySize + VaultFormat.TagSize];
        var header = new VaultHeader(kdf, nonce, wrapped);
        Span<byte> authenticated = stackalloc byte[VaultFormat.AuthenticatedHeaderSize];
        header.WriteAuthenticatedPart(authenticated);
        using var aes = new AesGcm(keyEncryptionKey, VaultFormat.TagSize);
        aes.Encrypt(nonce, dataKey, wrapped.AsSpan(0, VaultFormat.KeySize), wrapped.AsSpan(VaultFormat.KeySize), authenticated);
        return header;
    }

    public static VaultHeader Parse(ReadOnlySpan<byte> file, string path)
    {
        if (file.Length < VaultFormat.Magic.Length || !file[..VaultFormat.Magic.Length].SequenceEqual(VaultFormat.Magic))
        {
            throw new DsoException($"{path} is not a DSO vault (its first bytes are not the vault magic); check DSO_VAULT");
        }

        if (file.Length < VaultFormat.MinimumFileSize)
        {
            throw new DsoException($"vault {path} is truncated ({file.Length} bytes, at least {VaultFormat.MinimumFileSize} expected); it was left untouched: restore it from a backup");
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(file[8..]);
        if (version != VaultFormat.Version)
        {
            throw new DsoException(version > VaultFormat.Version
                ? $"vault {path} has format {version}, newer than this DSO reads ({VaultFormat.Version}); upgrade DSO"
                : $"vault {path} has an unknown format {version}; it was left untouched");
        }

        var kind = (KdfKind)file[10];
        if (!Enum.IsDefined(kind) || file[11] != 0)
        {
            throw new DsoException($"vault {path} names an unknown key derivation ({file[10]}); the header is damaged, restore the file from a backup");
        }

        var kdf = new KdfParameters(
            kind,
            BinaryPrimitives.ReadUInt32BigEndian(file[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(file[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(file[20..]),
            file.Slice(24, VaultFormat.SaltSize).ToArray());
        if (kind == KdfKind.Passphrase && (kdf.MemoryKiB is < 8 or > 4 * 1024 * 1024 || kdf.Passes is < 1 or > 64 || kdf.Parallelism != 1))
        {
            throw new DsoException($"vault {path} has implausible Argon2id parameters; the header is damaged, restore the file from a backup");
        }

        return new VaultHeader(
            kdf,
            file.Slice(VaultFormat.WrapNonceOffset, VaultFormat.NonceSize).ToArray(),
            file.Slice(VaultFormat.WrappedKeyOffset, VaultFormat.KeySize + VaultFormat.TagSize).ToArray());
    }

    /// <summary>Recovers the data key; fails on a wrong credential or a modified header alike.</summary>
    public VaultKeys Unwrap(ReadOnlySpan<byte> keyEncryptionKey, string path)
    {
        Span<byte> authenticated = stackalloc byte[VaultFormat.AuthenticatedHeaderSize];
        WriteAuthenticatedPart(authenticated);
        Span<byte> dataKey = stackalloc byte[VaultFormat.KeySize];
        try
        {
            using var aes = new AesGcm(keyEncryptionKey, VaultFormat.TagSize);
            aes.Decrypt(WrapNonce, WrappedKey.AsSpan(0, VaultFormat.KeySize), WrappedKey.AsSpan(VaultFormat.KeySize), dataKey, authenticated);
            return new VaultKeys(dataKey);
        }
        catch (AuthenticationTagMismatchException)
        {
            var what = Kdf.Kind == KdfKind.Passphrase ? "passphrase" : "key";
            throw new DsoException($"cannot unlock vault {path}: wrong {what}, or the vault header was modified; the file was left untouched");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public void WriteTo(Span<byte> destination)
    {
        WriteAuthenticatedPart(destination[..VaultFormat.AuthenticatedHeaderSize]);
        WrapNonce.CopyTo(destination[VaultFormat.WrapNonceOffset..]);
        WrappedKey.CopyTo(destination[VaultFormat.WrappedKeyOffset..]);
    }

    private void WriteAuthenticatedPart(Span<byte> destination)
    {
        destination.Clear();
        VaultFormat.Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], VaultFormat.Version);
        destination[10] = (byte)Kdf.Kind;
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Kdf.MemoryKiB);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], Kdf.Passes);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], Kdf.Parallelism);
        Kdf.Salt.CopyTo(destination[24..]);
    }
}
