namespace Dso.Vault;

/// <summary>
/// Opens the vault with what the environment supplies: DSO_MASTER_KEY or the key file for a
/// key-protected vault; DSO_PASSPHRASE, else the askPassphrase callback (a terminal prompt in
/// the CLI, nothing in the agent) for a passphrase-protected one.
/// </summary>
public static class VaultUnlocker
{
    public static LocalVault Open(VaultSettings settings, Func<string, string?>? askPassphrase = null) =>
        LocalVault.Open(settings.VaultPath, kind => Credential(kind, settings, askPassphrase));

    public static VaultCredential Credential(KdfKind kind, VaultSettings settings, Func<string, string?>? askPassphrase)
    {
        if (kind == KdfKind.Passphrase)
        {
            if (settings.MasterKey is not null)
            {
                throw new DsoException($"vault {settings.VaultPath} is protected by a passphrase, but DSO_MASTER_KEY is set; unset it and give the passphrase (prompt or DSO_PASSPHRASE)");
            }

            var passphrase = settings.Passphrase ?? askPassphrase?.Invoke($"Passphrase for {settings.VaultPath}: ")
                ?? throw new DsoException("a passphrase is needed and there is no terminal to ask on; run in a terminal, or set DSO_PASSPHRASE (less safe: other processes of this user can read it)");
            return VaultCredential.FromPassphrase(passphrase);
        }

        if (settings.MasterKey is { } masterKey)
        {
            return KeyFile.Parse(System.Text.Encoding.ASCII.GetBytes(masterKey), "DSO_MASTER_KEY");
        }

        if (!File.Exists(settings.KeyFilePath))
        {
            throw new DsoException($"vault {settings.VaultPath} is protected by a key file, but there is none at {settings.KeyFilePath}; set DSO_KEY_FILE to its key file or DSO_MASTER_KEY to the key");
        }

        return KeyFile.Read(settings.KeyFilePath);
    }

    /// <summary>The settings with the vault and key paths dso.yaml gives for a `local` provider, if any.</summary>
    public static VaultSettings WithPaths(VaultSettings settings, string? vaultFile, string? keyFile, string? home, string workingDirectory)
    {
        if (vaultFile is null && keyFile is null)
        {
            return settings;
        }

        string Expand(string path) => Path.GetFullPath(path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home ?? "/root", path[2..]) : path, workingDirectory);
        var vault = vaultFile is null ? settings.VaultPath : Expand(vaultFile);
        return settings with
        {
            VaultPath = vault,
            KeyFilePath = keyFile is not null ? Expand(keyFile) : vaultFile is not null ? Path.ChangeExtension(vault, ".key") : settings.KeyFilePath,
        };
    }
}
