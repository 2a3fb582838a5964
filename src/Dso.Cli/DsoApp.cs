using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Dso.Cli.Commands;
using Dso.Cli.Commands.Agent;
using Dso.Cli.Commands.Secret;
using Dso.Cli.Commands.Stack;

namespace Dso.Cli;

/// <summary>
/// The entry of `docker-dso`: answers the Docker CLI plugin handshake, strips the `dso` argument
/// Docker passes, parses, runs the command and maps failures to one line and an exit code.
/// </summary>
internal static class DsoApp
{
    /// <summary>`--config FILE`, for every command: dso.yaml to use instead of the lookup.</summary>
    public static Option<string?> ConfigOption { get; } = new("--config") { Description = "dso.yaml to use (default: ./dso.yaml, ~/.config/dso/dso.yaml, /etc/dso/dso.yaml).", HelpName = "FILE", Recursive = true };

    public static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand("DSO, the Docker Secret Operator: secrets from a provider into Compose containers, never on disk.")
        {
            new Commands.Setup.SetupCommand(context),
            Commands.Setup.BootstrapCommand.Create(context),
            new InitCommand(context),
            SecretCommand.Create(context),
            new UpCommand(context),
            new DownCommand(context),
            new ComposeCommand(context),
            new ValidateCommand(context),
            new MigrateCommand(context),
            Commands.Swarm.StackCommand.Create(context),
            new AgentCommand(context),
            new StatusCommand(context),
            new WatchCommand(context),
            new RotateCommand(context),
            new DoctorCommand(context),
            Commands.Provider.ProviderCommand.Create(context),
            new Commands.Provider.ProviderPluginCommand(context),
            Commands.Config.ConfigCommand.Create(context),
            Commands.SystemService.SystemCommand.Create(context),
            NotificationsCommand.Create(context),
            new RekeyCommand(context),
            new VersionCommand(context),
            new CompletionCommand(context),
            new ReferenceCommand(context),
        };

        root.Options.Add(ConfigOption);

        // Without a subcommand there is nothing to do: show what there is, as a usage error.
        root.SetAction(parseResult =>
        {
            new HelpAction().Invoke(parseResult);
            return ExitCodes.Usage;
        });
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        if (args is [PluginMetadata.Command])
        {
            context.Out.WriteLine(CliJson.Serialize(PluginMetadata.Current));
            return ExitCodes.Success;
        }

        if (args is [PluginMetadata.PluginName, ..])
        {
            args = args[1..];
        }

        context.RawArguments = args;
        var root = CreateRootCommand(context);

        // No response files: an '@name' argument (a compose service, a secret version) is never a file to expand.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors)
            {
                context.Error.WriteLine($"dso: {DsoException.OneLine(error.Message)}");
            }

            context.Error.WriteLine($"Run 'docker dso {CommandPath(parseResult.CommandResult.Command)}--help' for usage.");
            return ExitCodes.Usage;
        }

        context.ConfigPath = parseResult.GetValue(ConfigOption);
        var configuration = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,
        };

        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (UsageException e)
        {
            context.Error.WriteLine($"dso: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (DsoException e)
        {
            context.Error.WriteLine($"dso: {context.Masked(e.Message)}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine("dso: cancelled");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The subcommand path of <paramref name="command"/>, each name followed by a space.</summary>
    private static string CommandPath(Command command)
    {
        var path = string.Empty;
        for (Command? current = command; current is not null and not RootCommand; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            path = current.Name + " " + path;
        }

        return path;
    }
}
