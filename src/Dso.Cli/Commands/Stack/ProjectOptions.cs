using System.CommandLine;
using Dso.Injection.Compose;

namespace Dso.Cli.Commands.Stack;

/// <summary>Compose's own flags that choose a project (-f, -p, --env-file, --profile), for commands that load one without running compose.</summary>
internal sealed class ProjectOptions
{
    private readonly Option<string[]> _files = new("--file", "-f") { Description = "Compose file (repeatable); default: as compose finds it.", HelpName = "FILE" };
    private readonly Option<string?> _project = new("--project-name", "-p") { Description = "Project name.", HelpName = "NAME" };
    private readonly Option<string?> _envFile = new("--env-file") { Description = "Dotenv file for interpolation (default: .env in the project directory).", HelpName = "FILE" };
    private readonly Option<string[]> _profiles = new("--profile") { Description = "Profile to enable (repeatable).", HelpName = "PROFILE" };

    public void AddTo(Command command)
    {
        command.Options.Add(_files);
        command.Options.Add(_project);
        command.Options.Add(_envFile);
        command.Options.Add(_profiles);
    }

    public ComposeOptions Read(ParseResult parseResult) => new(
        parseResult.GetValue(_files) ?? [],
        parseResult.GetValue(_project),
        null,
        parseResult.GetValue(_envFile),
        parseResult.GetValue(_profiles) ?? []);
}
