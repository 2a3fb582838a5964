using System.CommandLine;
using Dso.Injection.Compose;

namespace Dso.Cli.Commands.Stack;

/// <summary>`docker dso down [compose args…]`: compose down, then wipe the project's delivered secrets.</summary>
internal sealed class DownCommand : DsoCommand
{
    public DownCommand(CliContext context)
        : base(context, "down", "Run compose down, then overwrite and remove the project's secrets from the RAM directory. Other arguments pass to compose down.")
    {
        TreatUnmatchedTokensAsErrors = false;
        Arguments.Add(PassThrough.Argument("COMPOSE_ARGS", "Compose options (-f, -p, --project-directory, --env-file, --profile) and compose down's own arguments."));
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var (options, rest) = ComposeArguments.Split(PassThrough.After(Context, Name), anywhere: true);
        return RunAsync(new StackSession(Context), options, rest, cancellationToken);
    }

    public static async Task<int> RunAsync(StackSession session, ComposeOptions options, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var project = session.LoadProject(options);
        var frontEnd = await session.FrontEndAsync(cancellationToken);
        var exitCode = await session.RunComposeAsync(frontEnd, project, null, "down", arguments, cancellationToken);
        if (exitCode != 0)
        {
            throw new DsoException($"{frontEnd.DisplayName} down failed (exit {exitCode}); the project's secrets were kept for the containers that may still run");
        }

        var store = session.Store();
        using var agent = await session.ConnectAgentAsync(cancellationToken);
        if (agent is not null)
        {
            await agent.DeleteAsync($"/v1/projects/{Uri.EscapeDataString(project.Name)}?kind={Dso.Ipc.ProjectRegistration.ComposeKind}", cancellationToken);
            store.RemoveProject(project.Name);
            session.Say($"the agent removed the secrets of project {project.Name} and stopped managing it");
        }
        else if (store.RemoveProject(project.Name))
        {
            session.Say($"removed the secrets of project {project.Name} from {store.ProjectDirectory(project.Name)}");
        }

        return ExitCodes.Success;
    }
}
