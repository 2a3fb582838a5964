using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Secrets;

namespace Dso.Cli.Commands.Secret;

/// <summary>`docker dso secret rm NAME`: deletes a secret and every kept version of it.</summary>
internal sealed class SecretRemoveCommand : DsoCommand
{
    private readonly Argument<string> _name = SecretCommand.NameArgument();
    private readonly Option<bool> _json = JsonOption();

    public SecretRemoveCommand(CliContext context)
        : base(context, "rm", "Delete a secret and all its kept versions.")
    {
        Aliases.Add("remove");
        Arguments.Add(_name);
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = SecretName.Validate(parseResult.GetValue(_name)!);
        using var vault = new VaultAccess(Context).Open();
        if (!vault.Remove(name))
        {
            throw new DsoException($"no secret named {name} in vault {vault.Path}; nothing was removed");
        }

        Context.Out.WriteLine(parseResult.GetValue(_json) ? CliJson.Serialize(new SecretRemovedJson(name, true)) : $"Removed {name}.");
        return Task.FromResult(ExitCodes.Success);
    }
}
