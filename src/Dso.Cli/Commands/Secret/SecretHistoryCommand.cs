using System.CommandLine;
using System.Globalization;
using Dso.Cli.Vault;
using Dso.Secrets;

namespace Dso.Cli.Commands.Secret;

/// <summary>`docker dso secret history NAME`: the kept versions with their times and sizes; never values.</summary>
internal sealed class SecretHistoryCommand : DsoCommand
{
    private readonly Argument<string> _name = SecretCommand.NameArgument();
    private readonly Option<bool> _json = JsonOption();

    public SecretHistoryCommand(CliContext context)
        : base(context, "history", "Show the kept versions of a secret with their times (never values).")
    {
        Arguments.Add(_name);
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = SecretName.Validate(parseResult.GetValue(_name)!);
        using var vault = new VaultAccess(Context).Open();
        var versions = vault.History(name);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(versions.Select(v => new SecretVersionJson(v.Version, v.CreatedAt, v.Length, v.Current)).ToList()));
        }
        else
        {
            TextTable.Write(Context, ["VERSION", "CREATED", "BYTES", ""], versions.Select(v => new[]
            {
                v.Version.ToString(CultureInfo.InvariantCulture),
                TextTable.Time(v.CreatedAt),
                v.Length.ToString(CultureInfo.InvariantCulture),
                v.Current ? "current" : string.Empty,
            }));
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
