using System.CommandLine;
using System.Text.Json;
using Dso.Ipc;

namespace Dso.Cli.Commands.Agent;

/// <summary>`docker dso watch`: the agent's events as they happen.</summary>
internal sealed class WatchCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("One JSON object per event.");
    private readonly Option<bool> _debug = new("--debug") { Description = "Each event's time and type, then its whole payload as the agent sent it (every field, indented)." };

    public WatchCommand(CliContext context)
        : base(context, "watch", "Stream the agent's events (registrations, repairs, container starts and deaths, webhooks) until interrupted.")
    {
        Options.Add(_json);
        Options.Add(_debug);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var agent = await AgentConnection.RequireAsync(Context, cancellationToken);
        try
        {
            await foreach (var item in agent.EventsAsync(cancellationToken))
            {
                if (parseResult.GetValue(_debug))
                {
                    Context.Out.WriteLine($"{item.Time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {item.Type}");
                    Context.Out.WriteLine(JsonSerializer.Serialize(item, IpcJson.Indented.AgentEvent));
                    continue;
                }

                Context.Out.WriteLine(parseResult.GetValue(_json)
                    ? JsonSerializer.Serialize(item, IpcJson.Wire.AgentEvent)
                    : $"{item.Time.UtcDateTime:HH:mm:ss} {item.Type,-20} {Target(item)}{item.Message}");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }

        throw new DsoException("the agent closed the event stream (it stopped?)");
    }

    private static string Target(AgentEvent item) =>
        item.Project is null ? string.Empty : item.Service is null ? $"{item.Project}: " : $"{item.Project}/{item.Service}: ";
}
