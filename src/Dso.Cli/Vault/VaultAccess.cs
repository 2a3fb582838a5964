using Dso.Vault;

namespace Dso.Cli.Vault;

/// <summary>
/// Finds the local vault from the environment and unlocks it with what the user supplies:
/// DSO_MASTER_KEY or the key file for a key-protected vault, DSO_PASSPHRASE or a hidden prompt
/// for a passphrase-protected one.
/// </summary>
internal sealed class VaultAccess(CliContext context, string? vaultFile = null, string? keyFile = null)
{
    /// <summary>The vault's paths: the environment's, or those dso.yaml gives for the `local` provider.</summary>
    public VaultSettings Settings { get; } = VaultSettings.FromEnvironment(context.GetEnvironmentVariable) switch
    {
        var settings when vaultFile is null && keyFile is null => settings,
        var settings => settings with
        {
            VaultPath = vaultFile is null ? settings.VaultPath : ExpandHome(vaultFile, context),
            KeyFilePath = keyFile is null ? (vaultFile is null ? settings.KeyFilePath : Path.ChangeExtension(ExpandHome(vaultFile, context), ".key")) : ExpandHome(keyFile, context),
        },
    };

    public LocalVault Open() => LocalVault.Open(Settings.VaultPath, CredentialFor);

    /// <summary>Asks for a passphrase: DSO_PASSPHRASE, else the terminal (twice when <paramref name="confirm"/>).</summary>
    public string ReadPassphrase(string prompt, bool confirm, string? environmentValue)
    {
        if (environmentValue is not null)
        {
            return environmentValue;
        }

        var first = context.InputIsTerminal ? context.ReadHidden(prompt) : null;
        if (first is null)
        {
            throw new DsoException("a passphrase is needed and there is no terminal to ask on; run in a terminal, or set DSO_PASSPHRASE (less safe: other processes of this user can read it)");
        }

        if (confirm)
        {
            if (first.Length < 8)
            {
                throw new DsoException("the passphrase is shorter than 8 characters; choose a longer one");
            }

            if (context.ReadHidden("Repeat the passphrase: ") != first)
            {
                throw new DsoException("the two passphrases differ; nothing was changed");
            }
        }

        return first;
    }

    private static string ExpandHome(string path, CliContext context) =>
        Path.GetFullPath(path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(context.GetEnvironmentVariable("HOME") ?? "/root", path[2..]) : path, context.WorkingDirectory);

    private VaultCredential CredentialFor(KdfKind kind)
    {
        if (kind == KdfKind.Passphrase)
        {
            if (Settings.MasterKey is not null)
            {
                throw new DsoException($"vault {Settings.VaultPath} is protected by a passphrase, but DSO_MASTER_KEY is set; unset it and give the passphrase (prompt or DSO_PASSPHRASE)");
            }

            return VaultCredential.FromPassphrase(ReadPassphrase($"Passphrase for {Settings.VaultPath}: ", confirm: false, Settings.Passphrase));
        }

        if (Settings.MasterKey is { } masterKey)
        {
            return KeyFile.Parse(System.Text.Encoding.ASCII.GetBytes(masterKey), "DSO_MASTER_KEY");
        }

        if (!File.Exists(Settings.KeyFilePath))
        {
            throw new DsoException($"vault {Settings.VaultPath} is protected by a key file, but there is none at {Settings.KeyFilePath}; set DSO_KEY_FILE to its key file or DSO_MASTER_KEY to the key");
        }

        return KeyFile.Read(Settings.KeyFilePath);
    }
}
