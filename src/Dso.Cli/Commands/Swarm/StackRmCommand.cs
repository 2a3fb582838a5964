using System.CommandLine;
using Dso.Cli.Commands.Stack;
using Dso.Injection.Engine;
using Dso.Injection.Swarm;
using Dso.Ipc;

namespace Dso.Cli.Commands.Swarm;

/// <summary>
/// `docker dso stack rm STACK`: `docker stack rm` (which removes the services and, by their
/// namespace label, DSO's secret versions), then the agent forgets the stack, so nothing rolls a
/// service that is gone; versions a stopping task still held are removed once it is gone.
/// </summary>
internal sealed class StackRmCommand : DsoCommand
{
    private static readonly TimeSpan TaskGrace = TimeSpan.FromSeconds(30);
    private readonly Argument<string> _stack = new("STACK") { Description = "The stack to remove." };

    public StackRmCommand(CliContext context)
        : base(context, "rm", "Remove a stack from Swarm with its secret versions, and stop the agent watching it.")
    {
        Arguments.Add(_stack);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var stack = parseResult.GetValue(_stack)!;
        var session = new StackSession(Context);
        var endpoint = EngineEndpoint.Resolve(Context.GetEnvironmentVariable);
        using var swarm = new SwarmEngine(endpoint);
        await swarm.RequireManagerAsync(cancellationToken);
        var exitCode = await session.RunDockerAsync(["stack", "rm", stack], cancellationToken);
        if (exitCode != 0)
        {
            throw new DsoException($"docker stack rm failed (exit {exitCode}); its output is above");
        }

        using (var agent = await session.ConnectAgentAsync(cancellationToken))
        {
            if (agent is not null)
            {
                await agent.DeleteAsync($"/v1/projects/{Uri.EscapeDataString(stack)}?kind={ProjectRegistration.SwarmKind}", cancellationToken);
                session.Say($"the agent no longer watches stack {stack}");
            }
        }

        // docker stack rm cannot remove a version a stopping task still mounts: wait (bounded) for the tasks, then remove what is left.
        var deadline = DateTimeOffset.UtcNow + TaskGrace;
        while (true)
        {
            await swarm.PruneAsync(stack, cancellationToken);
            if ((await swarm.StackSecretsAsync(stack, cancellationToken)).Count == 0 || DateTimeOffset.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(500, cancellationToken);
        }

        var remaining = await swarm.StackSecretsAsync(stack, cancellationToken);
        return remaining.Count == 0
            ? ExitCodes.Success
            : throw new DsoException($"stack {stack}: {remaining.Count} secret version(s) are still in use after {TaskGrace.TotalSeconds:0} s ({string.Join(", ", remaining)}); run docker dso stack rm {stack} again once its tasks are gone");
    }
}
