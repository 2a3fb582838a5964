using System.CommandLine;
using Dso.Injection.Compose;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `docker dso compose ARGS…`: any compose subcommand. Those that create or start containers (up,
/// run, create, start, restart) get the secrets and the override, `down` also wipes them, the
/// rest (ps, logs, config, …) pass through untouched.
/// </summary>
internal sealed class ComposeCommand : DsoCommand
{
    private static readonly string[] Deploying = ["up", "run", "create", "start", "restart"];

    public ComposeCommand(CliContext context)
        : base(context, "compose", "Run any compose subcommand for the project; those that start containers get their secrets.")
    {
        TreatUnmatchedTokensAsErrors = false;
        Arguments.Add(PassThrough.Argument("ARGS", "Compose global options, then the subcommand and its arguments."));
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var (options, rest) = ComposeArguments.Split(PassThrough.After(Context, Name), anywhere: false);
        if (rest.Count == 0)
        {
            throw new UsageException("compose needs a subcommand, e.g. docker dso compose ps");
        }

        var session = new StackSession(Context);
        var subcommand = rest[0];
        var arguments = rest.Skip(1).ToList();
        if (Deploying.Contains(subcommand, StringComparer.Ordinal))
        {
            return await StackDeployment.RunAsync(session, options, subcommand, arguments, cancellationToken);
        }

        if (subcommand == "down")
        {
            return await DownCommand.RunAsync(session, options, arguments, cancellationToken);
        }

        var project = session.LoadProject(options);
        var frontEnd = await session.FrontEndAsync(cancellationToken);
        var exitCode = await session.RunComposeAsync(frontEnd, project, null, subcommand, arguments, cancellationToken);
        return exitCode == 0 ? ExitCodes.Success : exitCode;
    }
}
