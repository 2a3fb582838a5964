using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Vault;

namespace Dso.Cli.Commands;

/// <summary>`docker dso init`: creates the local vault, protected by a key file (default) or a passphrase.</summary>
internal sealed class InitCommand : DsoCommand
{
    private readonly Option<bool> _passphrase = new("--passphrase") { Description = "Protect the vault with a passphrase (asked twice, or DSO_PASSPHRASE) instead of a key file." };
    private readonly Option<string?> _keyFile = new("--key-file") { Description = "Key file to use or create (default: the vault path with .key, or DSO_KEY_FILE).", HelpName = "PATH" };

    public InitCommand(CliContext context)
        : base(context, "init", "Create the local encrypted vault and print where it lives.")
    {
        Options.Add(_passphrase);
        Options.Add(_keyFile);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var access = new VaultAccess(Context);
        var settings = access.Settings;
        var keyFilePath = parseResult.GetValue(_keyFile) is { } given ? Path.GetFullPath(given, Context.WorkingDirectory) : settings.KeyFilePath;
        if (parseResult.GetValue(_passphrase) && parseResult.GetValue(_keyFile) is not null)
        {
            throw new UsageException("--passphrase and --key-file exclude each other; choose one");
        }

        if (File.Exists(settings.VaultPath))
        {
            throw new DsoException($"a vault already exists at {settings.VaultPath}; it was not touched (remove it first, or set DSO_VAULT to another path)");
        }

        string protection;
        VaultCredential credential;
        if (parseResult.GetValue(_passphrase))
        {
            credential = VaultCredential.FromPassphrase(access.ReadPassphrase("New vault passphrase: ", isNew: true, "DSO_PASSPHRASE"));
            protection = "a passphrase (Argon2id, 128 MiB, 3 passes)";
        }
        else if (settings.MasterKey is not null && parseResult.GetValue(_keyFile) is null)
        {
            credential = KeyFile.Parse(System.Text.Encoding.ASCII.GetBytes(settings.MasterKey), "DSO_MASTER_KEY");
            protection = "the key in DSO_MASTER_KEY";
        }
        else if (File.Exists(keyFilePath))
        {
            credential = KeyFile.Read(keyFilePath);
            protection = $"the existing key file {keyFilePath}";
        }
        else
        {
            credential = KeyFile.Generate(keyFilePath);
            protection = $"the new key file {keyFilePath}";
        }

        using (credential)
        using (var vault = LocalVault.Create(settings.VaultPath, credential))
        {
            Context.Out.WriteLine($"Created vault {vault.Path}, protected by {protection}.");
        }

        if (!parseResult.GetValue(_passphrase) && settings.MasterKey is null)
        {
            Context.Out.WriteLine($"Keep a copy of {keyFilePath} somewhere safe: without it the vault cannot be opened.");
            if (keyFilePath != settings.KeyFilePath)
            {
                Context.Out.WriteLine($"Set DSO_KEY_FILE={keyFilePath} so later commands find it.");
            }
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
