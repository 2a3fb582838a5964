using System.CommandLine;
using Dso.Cli.Vault;

namespace Dso.Cli.Commands.Secret;

/// <summary>`docker dso secret list [PREFIX]`: names, versions and update times; never values.</summary>
internal sealed class SecretListCommand : DsoCommand
{
    private readonly Argument<string?> _prefix = new("PREFIX") { Description = "Only names that start with this text.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<bool> _json = JsonOption();

    public SecretListCommand(CliContext context)
        : base(context, "list", "List secrets: names, versions, update times (never values).")
    {
        Aliases.Add("ls");
        Arguments.Add(_prefix);
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var vault = new VaultAccess(Context).Open();
        var secrets = vault.List(parseResult.GetValue(_prefix));
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(secrets.Select(s => new SecretListItemJson(s.Name, s.Version, s.UpdatedAt, s.VersionsKept)).ToList()));
        }
        else if (secrets.Count == 0)
        {
            Context.Out.WriteLine(parseResult.GetValue(_prefix) is { } prefix ? $"No secrets whose name starts with '{prefix}'." : "The vault holds no secrets yet; add one with 'docker dso secret set NAME'.");
        }
        else
        {
            TextTable.Write(Context, ["NAME", "VERSION", "UPDATED"], secrets.Select(s => new[] { s.Name, s.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), TextTable.Time(s.UpdatedAt) }));
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
