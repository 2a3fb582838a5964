using System.CommandLine;

namespace Dso.Cli.Commands;

/// <summary>
/// Base of every command: binds the action to <see cref="ExecuteAsync"/> so a command file holds
/// only its options and its work. Errors are thrown as <see cref="DsoException"/> and turned into
/// one line and an exit code by <see cref="DsoApp"/>.
/// </summary>
internal abstract class DsoCommand : Command
{
    protected DsoCommand(CliContext context, string name, string description)
        : base(name, description)
    {
        Context = context;
        SetAction((parseResult, cancellationToken) => ExecuteAsync(parseResult, cancellationToken));
    }

    protected CliContext Context { get; }

    protected abstract Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken);

    protected static Option<bool> JsonOption(string description = "Print machine-readable JSON.") =>
        new("--json") { Description = description };
}
