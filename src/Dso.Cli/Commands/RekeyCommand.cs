using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Vault;

namespace Dso.Cli.Commands;

/// <summary>
/// `docker dso rekey`: protects the vault with a new passphrase or key and a new data key, every
/// entry re-encrypted in one atomic write; it says what an old copy of the file still opens.
/// </summary>
internal sealed class RekeyCommand : DsoCommand
{
    private readonly Option<bool> _passphrase = new("--passphrase") { Description = "Protect the vault with a new passphrase (asked twice, or DSO_NEW_PASSPHRASE)." };
    private readonly Option<string?> _keyFile = new("--key-file") { Description = "Protect the vault with a new random key written to PATH (must not exist).", HelpName = "PATH" };

    public RekeyCommand(CliContext context)
        : base(context, "rekey", "Change the vault's passphrase or key; every entry is re-encrypted under a new data key.")
    {
        Options.Add(_passphrase);
        Options.Add(_keyFile);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var keyFile = parseResult.GetValue(_keyFile);
        if (parseResult.GetValue(_passphrase) == (keyFile is not null))
        {
            throw new UsageException("say how the vault is protected from now on: --passphrase or --key-file PATH");
        }

        var access = new VaultAccess(Context);
        using var vault = access.Open();
        if (parseResult.GetValue(_passphrase))
        {
            using var credential = VaultCredential.FromPassphrase(
                access.ReadPassphrase("New vault passphrase: ", isNew: true, "DSO_NEW_PASSPHRASE"));
            vault.Rekey(credential);
            Context.Out.WriteLine($"Vault {vault.Path} is now protected by the new passphrase and a new data key; every entry was re-encrypted.");
            Context.Out.WriteLine(OldCopies("passphrase"));
            return Task.FromResult(ExitCodes.Success);
        }

        var path = Path.GetFullPath(keyFile!, Context.WorkingDirectory);
        if (File.Exists(path))
        {
            throw new DsoException($"{path} already exists; rekey writes a new key and never overwrites one (choose a new path)");
        }

        using (var credential = KeyFile.Generate(path))
        {
            vault.Rekey(credential);
        }

        Context.Out.WriteLine($"Vault {vault.Path} is now protected by the new key file {path} and a new data key; every entry was re-encrypted.");
        Context.Out.WriteLine(OldCopies("key"));
        if (path != access.Settings.KeyFilePath)
        {
            Context.Out.WriteLine($"Set DSO_KEY_FILE={path} (or move it to {access.Settings.KeyFilePath}); the old key no longer opens the vault.");
        }

        return Task.FromResult(ExitCodes.Success);
    }

    private static string OldCopies(string credential) =>
        $"A copy of the vault file made before now (a backup) still opens with the old {credential}, and holds the values it held then; nothing written from now on opens with it. Delete such copies if the old {credential} may be known.";
}
