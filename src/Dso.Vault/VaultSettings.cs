namespace Dso.Vault;

/// <summary>
/// Where the vault and its key live and which credentials the environment supplies:
/// DSO_HOME (default ~/.dso), DSO_VAULT (default $DSO_HOME/vault.dso), DSO_KEY_FILE (default the
/// vault path with the extension .key), DSO_MASTER_KEY and DSO_PASSPHRASE (for scripts; less safe,
/// since a process's environment is readable by the same user).
/// </summary>
public sealed record VaultSettings(string Home, string VaultPath, string KeyFilePath, string? MasterKey, string? Passphrase)
{
    public static VaultSettings FromEnvironment(Func<string, string?> variable)
    {
        var home = variable("DSO_HOME") ?? Path.Combine(variable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dso");
        var vault = Path.GetFullPath(variable("DSO_VAULT") ?? Path.Combine(home, "vault.dso"));
        var keyFile = Path.GetFullPath(variable("DSO_KEY_FILE") ?? Path.ChangeExtension(vault, ".key"));
        return new VaultSettings(Path.GetFullPath(home), vault, keyFile, variable("DSO_MASTER_KEY"), variable("DSO_PASSPHRASE"));
    }
}
