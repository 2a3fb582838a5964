namespace Dso.Vault;

/// <summary>
/// The constants of vault format 1, documented byte by byte in docs/vault-format.md.
/// Integers are big-endian.
/// </summary>
internal static class VaultFormat
{
    public const ushort Version = 1;
    public const int HeaderSize = 100;
    public const int SaltSize = 16;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int KeySize = 32;
    public const int MacSize = 32;

    /// <summary>Bytes of the header covered by the data key's wrapping as associated data.</summary>
    public const int AuthenticatedHeaderSize = 40;

    public const int WrapNonceOffset = 40;
    public const int WrappedKeyOffset = 52;

    /// <summary>The smallest valid file: header, entry count, MAC.</summary>
    public const int MinimumFileSize = HeaderSize + 4 + MacSize;

    /// <summary>Largest value a secret may have.</summary>
    public const int MaxValueBytes = 1024 * 1024;

    /// <summary>Versions kept per secret (the current one included); older ones are dropped.</summary>
    public const int HistoryLimit = 10;

    public static ReadOnlySpan<byte> Magic => "DSOVAULT"u8;

    public static ReadOnlySpan<byte> EntryContext => "DSO1"u8;

    public static ReadOnlySpan<byte> KeyFileInfo => "dso vault kek v1"u8;

    public static ReadOnlySpan<byte> EntryKeyInfo => "dso vault entries v1"u8;

    public static ReadOnlySpan<byte> MacKeyInfo => "dso vault mac v1"u8;
}
