using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Vault;

namespace Dso.Cli.Commands;

/// <summary>
/// `docker dso rekey`: protects the vault with a new passphrase or key without re-encrypting its
/// entries (only the wrapped data key in the header changes).
/// </summary>
internal sealed class RekeyCommand : DsoCommand
{
    private readonly Option<bool> _passphrase = new("--passphrase") { Description = "Protect the vault with a new passphrase (asked twice, or DSO_NEW_PASSPHRASE)." };
    private readonly Option<string?> _keyFile = new("--key-file") { Description = "Protect the vault with a new random key written to PATH (must not exist).", HelpName = "PATH" };

    public RekeyCommand(CliContext context)
        : base(context, "rekey", "Change the vault's passphrase or key (entries are not re-encrypted).")
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
                access.ReadPassphrase("New vault passphrase: ", confirm: true, Context.GetEnvironmentVariable("DSO_NEW_PASSPHRASE")));
            vault.Rekey(credential);
            Context.Out.WriteLine($"Vault {vault.Path} is now protected by the new passphrase.");
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

        Context.Out.WriteLine($"Vault {vault.Path} is now protected by the new key file {path}.");
        if (path != access.Settings.KeyFilePath)
        {
            Context.Out.WriteLine($"Set DSO_KEY_FILE={path} (or move it to {access.Settings.KeyFilePath}); the old key no longer opens the vault.");
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
