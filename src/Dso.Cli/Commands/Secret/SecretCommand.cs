using System.CommandLine;

namespace Dso.Cli.Commands.Secret;

/// <summary>`docker dso secret …`: the local vault's secrets.</summary>
internal static class SecretCommand
{
    public static Command Create(CliContext context) => new("secret", "Manage secrets in the local encrypted vault.")
    {
        new SecretSetCommand(context),
        new SecretGetCommand(context),
        new SecretListCommand(context),
        new SecretRemoveCommand(context),
        new SecretImportCommand(context),
        new SecretHistoryCommand(context),
    };

    /// <summary>The NAME argument shared by the subcommands.</summary>
    public static Argument<string> NameArgument(string description = "The secret's name, e.g. myapp/db_password.") =>
        new("NAME") { Description = description };
}
