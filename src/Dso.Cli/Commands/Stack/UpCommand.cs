using System.CommandLine;
using Dso.Injection.Compose;

namespace Dso.Cli.Commands.Stack;

/// <summary>`docker dso up [compose args…]`: compose up with the project's secrets delivered.</summary>
internal sealed class UpCommand : DsoCommand
{
    public UpCommand(CliContext context)
        : base(context, "up", "Resolve the compose project's dso:// references, deliver the secrets, and run compose up. Every other argument (-d, --scale, services, …) passes to compose up.")
    {
        TreatUnmatchedTokensAsErrors = false;
        Arguments.Add(PassThrough.Argument("COMPOSE_ARGS", "Compose options (-f, -p, --project-directory, --env-file, --profile) and compose up's own arguments."));
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var (options, rest) = ComposeArguments.Split(PassThrough.After(Context, Name), anywhere: true);
        return StackDeployment.RunAsync(new StackSession(Context), options, "up", rest, cancellationToken);
    }
}
