using System.CommandLine;

namespace Dso.Cli.Commands;

/// <summary>
/// `docker-dso reference --format man|markdown` (hidden): the command reference read from the
/// command tree — docker-dso(1) for the package, the generated part of docs/cli.md.
/// </summary>
internal sealed class ReferenceCommand : DsoCommand
{
    private readonly Option<string> _format = new("--format") { Description = "man or markdown.", HelpName = "FORMAT", DefaultValueFactory = _ => "man" };

    public ReferenceCommand(CliContext context)
        : base(context, "reference", "Print the reference of every command (man page or markdown).")
    {
        Hidden = true;
        _format.AcceptOnlyFromAmong("man", "markdown");
        Options.Add(_format);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var root = DsoApp.CreateRootCommand(Context);
        Context.Out.Write(parseResult.GetValue(_format) == "markdown" ? CommandReference.Markdown(root) : CommandReference.Man(root, BuildInfo.Current));
        return Task.FromResult(ExitCodes.Success);
    }
}
