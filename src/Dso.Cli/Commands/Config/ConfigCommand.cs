using System.CommandLine;

namespace Dso.Cli.Commands.Config;

/// <summary>`docker dso config show|validate`.</summary>
internal static class ConfigCommand
{
    public static Command Create(CliContext context) => new("config", "Show or check the effective dso.yaml.")
    {
        new ConfigShowCommand(context),
        new ConfigValidateCommand(context),
    };
}
