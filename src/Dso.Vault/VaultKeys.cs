using System.Security.Cryptography;

namespace Dso.Vault;

/// <summary>
/// The unlocked data key and the two keys derived from it: one seals entries, one MACs the file.
/// Pinned, zeroed on dispose. Held for the life of a process so writes never re-run Argon2.
/// </summary>
internal sealed class VaultKeys : IDisposable
{
    private readonly byte[] _dataKey;
    private readonly byte[] _entryKey;
    private readonly byte[] _macKey;

    public VaultKeys(ReadOnlySpan<byte> dataKey)
    {
        _dataKey = Pinned(dataKey);
        _entryKey = Pinned(stackalloc byte[VaultFormat.KeySize]);
        _macKey = Pinned(stackalloc byte[VaultFormat.KeySize]);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _dataKey, _entryKey, [], VaultFormat.EntryKeyInfo);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _dataKey, _macKey, [], VaultFormat.MacKeyInfo);
    }

    public static VaultKeys CreateRandom()
    {
        Span<byte> key = stackalloc byte[VaultFormat.KeySize];
        RandomNumberGenerator.Fill(key);
        var keys = new VaultKeys(key);
        CryptographicOperations.ZeroMemory(key);
        return keys;
    }

    public ReadOnlySpan<byte> DataKey => _dataKey;

    public AesGcm EntryCipher() => new(_entryKey, VaultFormat.TagSize);

    public void ComputeMac(ReadOnlySpan<byte> content, Span<byte> mac) => HMACSHA256.HashData(_macKey, content, mac);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_dataKey);
        CryptographicOperations.ZeroMemory(_entryKey);
        CryptographicOperations.ZeroMemory(_macKey);
    }

    private static byte[] Pinned(ReadOnlySpan<byte> bytes)
    {
        var array = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(array);
        return array;
    }
}
