namespace Dso.Vault;

/// <summary>How the key-encryption key is made (header byte 10).</summary>
public enum KdfKind : byte
{
    /// <summary>Argon2id from a passphrase.</summary>
    Passphrase = 1,

    /// <summary>HKDF-SHA256 from a 256-bit key (a key file or DSO_MASTER_KEY).</summary>
    KeyFile = 2,
}
