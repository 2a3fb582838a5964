using System.CommandLine;

namespace Dso.Cli.Commands.Swarm;

/// <summary>`docker dso stack …`: the same references, for Docker Swarm stacks (spec §10).</summary>
internal static class StackCommand
{
    public static Command Create(CliContext context) => new("stack", "Deploy compose files to Docker Swarm with their dso:// references as versioned Swarm secrets.")
    {
        new StackDeployCommand(context),
        new StackRmCommand(context),
    };
}
