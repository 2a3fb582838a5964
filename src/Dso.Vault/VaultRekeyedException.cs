namespace Dso.Vault;

/// <summary>
/// The vault file was rekeyed by another process after this one unlocked it: its data key is new,
/// so the key this process holds opens nothing in it. Open the vault again with its new credential.
/// </summary>
public sealed class VaultRekeyedException(string path)
    : DsoException($"vault {path} was rekeyed after this process unlocked it; it must be opened again with its new passphrase or key")
{
    public string Path => path;
}
