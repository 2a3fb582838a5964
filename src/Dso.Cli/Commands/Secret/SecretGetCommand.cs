using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Secrets;

namespace Dso.Cli.Commands.Secret;

/// <summary>`docker dso secret get NAME[@VERSION]`: the one command that prints a value, exactly as stored.</summary>
internal sealed class SecretGetCommand : DsoCommand
{
    private readonly Argument<string> _name = SecretCommand.NameArgument("The secret's name, optionally with @VERSION for a kept older version.");
    private readonly Option<bool> _newline = new("--newline", "-n") { Description = "Print a newline after the value." };
    private readonly Option<bool> _json = JsonOption("Print the secret's metadata as JSON (never the value).");

    public SecretGetCommand(CliContext context)
        : base(context, "get", "Print a secret's value (or, with --json, its metadata only).")
    {
        Arguments.Add(_name);
        Options.Add(_newline);
        Options.Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var (name, version) = SplitVersion(parseResult.GetValue(_name)!);
        using var vault = new VaultAccess(Context).Open();
        if (parseResult.GetValue(_json))
        {
            var kept = vault.History(name).FirstOrDefault(v => version is null ? v.Current : v.Version == version)
                ?? throw new DsoException($"secret {name} has no version {version}; 'docker dso secret history {name}' shows the versions kept");
            Context.Out.WriteLine(CliJson.Serialize(new SecretMetadataJson(kept.Name, kept.Version, kept.CreatedAt, kept.Length, kept.Current)));
            return ExitCodes.Success;
        }

        using (var value = vault.Get(name, version))
        {
            // Written from the pinned buffer itself: no unzeroed copy of the value is made.
            Context.StandardOutput.Write(value.Reveal());
        }

        if (parseResult.GetValue(_newline))
        {
            Context.StandardOutput.Write("\n"u8);
        }

        await Context.StandardOutput.FlushAsync(cancellationToken);
        return ExitCodes.Success;
    }

    private static (string Name, uint? Version) SplitVersion(string argument)
    {
        var at = argument.LastIndexOf('@');
        if (at < 0)
        {
            return (SecretName.Validate(argument), null);
        }

        var name = SecretName.Validate(argument[..at]);
        return uint.TryParse(argument[(at + 1)..], out var version) && version > 0
            ? (name, version)
            : throw new DsoException($"'{argument[(at + 1)..]}' after @ is not a version number (write {name}@3)");
    }
}
