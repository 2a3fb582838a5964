using System.CommandLine;

namespace Dso.Cli.Commands.Agent;

/// <summary>
/// `docker dso rotate [--project P]`: asks the agent to resolve the secrets of its projects again,
/// now, and rewrite their files. Containers that read files see the new values at once; restarting
/// containers for changed environment values is the rotation strategies' work (not built yet).
/// </summary>
internal sealed class RotateCommand : DsoCommand
{
    private readonly Option<string?> _project = new("--project", "-p") { Description = "Only this project.", HelpName = "NAME" };

    public RotateCommand(CliContext context)
        : base(context, "rotate", "Have the agent resolve its projects' secrets again now and rewrite their files.")
    {
        Options.Add(_project);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var agent = await AgentConnection.RequireAsync(Context, cancellationToken);
        var project = parseResult.GetValue(_project);
        var path = project is null ? "/v1/refresh" : $"/v1/refresh?project={Uri.EscapeDataString(project)}";
        var result = await agent.PostAsync(path, 0, Dso.Ipc.RefreshJson.Default.Int32, Dso.Ipc.RefreshJson.Default.DictionaryStringInt32, cancellationToken);
        var count = result.GetValueOrDefault("projects");
        Context.Out.WriteLine(count == 0
            ? project is null ? "The agent manages no project whose secrets it could refresh." : $"The agent has no project {project}, or could not refresh it ('docker dso status' says why)."
            : $"Refreshed {count} project(s): files hold the current values; containers using environment values keep theirs until restarted.");
        return count == 0 && project is not null ? ExitCodes.Failure : ExitCodes.Success;
    }
}
