using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dso.Vault;

/// <summary>
/// A whole vault file in memory: the header, every entry (all versions), and on disk a trailing
/// HMAC-SHA256 over everything before it, so any changed, removed or reordered byte is detected.
/// </summary>
internal sealed record VaultDocument(VaultHeader Header, IReadOnlyList<VaultEntry> Entries)
{
    public byte[] Serialize(VaultKeys keys)
    {
        var ordered = Entries.OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Version).ToList();
        var size = VaultFormat.HeaderSize + 4 + ordered.Sum(e => e.SerializedSize) + VaultFormat.MacSize;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        Header.WriteTo(span);
        var offset = VaultFormat.HeaderSize;
        BinaryPrimitives.WriteUInt32BigEndian(span[offset..], (uint)ordered.Count);
        offset += 4;
        foreach (var entry in ordered)
        {
            offset += entry.WriteTo(span[offset..]);
        }

        keys.ComputeMac(span[..offset], span[offset..]);
        return bytes;
    }

    /// <summary>Checks the MAC with <paramref name="keys"/>, then reads the entries.</summary>
    public static VaultDocument Parse(ReadOnlySpan<byte> file, VaultHeader header, VaultKeys keys, string path)
    {
        var content = file[..^VaultFormat.MacSize];
        Span<byte> mac = stackalloc byte[VaultFormat.MacSize];
        keys.ComputeMac(content, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, file[^VaultFormat.MacSize..]))
        {
            throw new DsoException($"vault {path} fails its integrity check: it was modified or damaged after it was written; it was left untouched, restore it from a backup");
        }

        var body = content[VaultFormat.HeaderSize..];
        var count = BinaryPrimitives.ReadUInt32BigEndian(body);
        var entries = new List<VaultEntry>();
        var offset = 4;
        for (var i = 0; i < count; i++)
        {
            var entry = VaultEntry.TryRead(body, ref offset)
                ?? throw new DsoException($"vault {path} has a malformed entry {i + 1} of {count} despite a valid MAC; it was left untouched");
            entries.Add(entry);
        }

        if (offset != body.Length)
        {
            throw new DsoException($"vault {path} has {body.Length - offset} unexpected bytes after its last entry; it was left untouched");
        }

        return new VaultDocument(header, entries);
    }
}
