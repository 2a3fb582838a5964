using Dso.Cli.Agent;
using Dso.Configuration;
using Dso.Ipc;

namespace Dso.Cli.Commands.Agent;

/// <summary>Connects the commands that need a running agent (status, watch, rotate), with a clear error when none runs.</summary>
internal static class AgentConnection
{
    public static string SocketPath(CliContext context) =>
        context.GetEnvironmentVariable(IpcProtocol.SocketVariable)
        ?? ConfigLoader.Load(context.ConfigPath, context.GetEnvironmentVariable, context.WorkingDirectory).Config.Agent.Socket;

    public static async Task<AgentClient> RequireAsync(CliContext context, CancellationToken cancellationToken)
    {
        var socket = SocketPath(context);
        return await AgentClient.TryConnectAsync(socket, cancellationToken)
            ?? throw new DsoException($"no agent answers on {socket}; start it with 'docker dso agent' (or 'systemctl start dso-agent'), or set DSO_AGENT_SOCKET");
    }
}
