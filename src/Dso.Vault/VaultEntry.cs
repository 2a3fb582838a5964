using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dso.Secrets;

namespace Dso.Vault;

/// <summary>
/// One version of one secret, sealed with AES-256-GCM under the entry key. The name, version and
/// creation time are associated data: moving an entry to another name or version, or editing its
/// time, makes it fail to open.
/// </summary>
internal sealed record VaultEntry(string Name, uint Version, DateTimeOffset CreatedAt, byte[] Nonce, byte[] Ciphertext, byte[] Tag)
{
    public static VaultEntry Seal(VaultKeys keys, string name, uint version, DateTimeOffset createdAt, SecretValue value)
    {
        var nonce = RandomNumberGenerator.GetBytes(VaultFormat.NonceSize);
        var ciphertext = new byte[value.Length];
        var tag = new byte[VaultFormat.TagSize];
        using var aes = keys.EntryCipher();
        aes.Encrypt(nonce, value.Reveal(), ciphertext, tag, AssociatedData(name, version, createdAt));
        return new VaultEntry(name, version, createdAt, nonce, ciphertext, tag);
    }

    public SecretValue Open(VaultKeys keys, string path)
    {
        var plain = GC.AllocateUninitializedArray<byte>(Ciphertext.Length, pinned: true);
        try
        {
            using var aes = keys.EntryCipher();
            aes.Decrypt(Nonce, Ciphertext, Tag, plain, AssociatedData(Name, Version, CreatedAt));
            return SecretValue.FromBytes(plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new DsoException($"vault {path}: entry {Name} version {Version} fails its integrity check (moved or modified); the file was left untouched");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public int SerializedSize => 2 + Name.Length + 4 + 8 + VaultFormat.NonceSize + 4 + Ciphertext.Length + VaultFormat.TagSize;

    public int WriteTo(Span<byte> destination)
    {
        var offset = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)Name.Length);
        offset += 2;
        offset += Encoding.ASCII.GetBytes(Name, destination[offset..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], Version);
        offset += 4;
        BinaryPrimitives.WriteInt64BigEndian(destination[offset..], CreatedAt.ToUnixTimeMilliseconds());
        offset += 8;
        Nonce.CopyTo(destination[offset..]);
        offset += VaultFormat.NonceSize;
        BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], (uint)Ciphertext.Length);
        offset += 4;
        Ciphertext.CopyTo(destination[offset..]);
        offset += Ciphertext.Length;
        Tag.CopyTo(destination[offset..]);
        return offset + VaultFormat.TagSize;
    }

    /// <summary>Reads one entry at <paramref name="offset"/>, advancing it; null when the bytes do not form one.</summary>
    public static VaultEntry? TryRead(ReadOnlySpan<byte> body, ref int offset)
    {
        var rest = body[offset..];
        if (rest.Length < 2)
        {
            return null;
        }

        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        var fixedSize = 2 + nameLength + 4 + 8 + VaultFormat.NonceSize + 4;
        if (rest.Length < fixedSize)
        {
            return null;
        }

        var name = Encoding.ASCII.GetString(rest.Slice(2, nameLength));
        var at = 2 + nameLength;
        var version = BinaryPrimitives.ReadUInt32BigEndian(rest[at..]);
        var created = BinaryPrimitives.ReadInt64BigEndian(rest[(at + 4)..]);
        var nonce = rest.Slice(at + 12, VaultFormat.NonceSize).ToArray();
        var length = BinaryPrimitives.ReadUInt32BigEndian(rest[(at + 12 + VaultFormat.NonceSize)..]);
        if (length > VaultFormat.MaxValueBytes || rest.Length < fixedSize + length + VaultFormat.TagSize
            || SecretName.Problem(name) is not null || created is < 0 or > 253402300799999)
        {
            return null;
        }

        var ciphertext = rest.Slice(fixedSize, (int)length).ToArray();
        var tag = rest.Slice(fixedSize + (int)length, VaultFormat.TagSize).ToArray();
        offset += fixedSize + (int)length + VaultFormat.TagSize;
        return new VaultEntry(name, version, DateTimeOffset.FromUnixTimeMilliseconds(created), nonce, ciphertext, tag);
    }

    private static byte[] AssociatedData(string name, uint version, DateTimeOffset createdAt)
    {
        var data = new byte[VaultFormat.EntryContext.Length + 2 + name.Length + 4 + 8];
        var span = data.AsSpan();
        VaultFormat.EntryContext.CopyTo(span);
        var offset = VaultFormat.EntryContext.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)name.Length);
        offset += 2;
        offset += Encoding.ASCII.GetBytes(name, span[offset..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[offset..], version);
        BinaryPrimitives.WriteInt64BigEndian(span[(offset + 4)..], createdAt.ToUnixTimeMilliseconds());
        return data;
    }
}
