using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dso.Ipc;

namespace Dso.Cli.Commands.Agent;

/// <summary>
/// `docker dso rotate [SERVICE…] [--project P] [--secret NAME] [--force]`: has the agent resolve the
/// chosen services' secrets now and rotate each one whose consumed values changed, by its strategy,
/// skipping the debounce; `--force` rotates even when nothing changed. Waits for the results.
/// </summary>
internal sealed class RotateCommand : DsoCommand
{
    private readonly Argument<string[]> _services = new("SERVICE") { Description = "Services to rotate (default: every managed service).", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<string?> _project = new("--project", "-p") { Description = "Only services of this project.", HelpName = "NAME" };
    private readonly Option<string?> _secret = new("--secret") { Description = "Only services that consume this secret (path, PROVIDER:path or the reference).", HelpName = "NAME" };
    private readonly Option<bool> _force = new("--force") { Description = "Rotate even when the values are the ones the containers have." };
    private readonly Option<bool> _json = JsonOption("Print the results as JSON (shape documented in docs/cli.md).");

    public RotateCommand(CliContext context)
        : base(context, "rotate", "Check the secrets of managed services now and rotate each service whose values changed.")
    {
        Arguments.Add(_services);
        Options.Add(_project);
        Options.Add(_secret);
        Options.Add(_force);
        Options.Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var agent = await AgentConnection.RequireAsync(Context, cancellationToken);
        var request = new RotateRequest(parseResult.GetValue(_project), parseResult.GetValue(_services) ?? [], parseResult.GetValue(_secret), parseResult.GetValue(_force));
        RotateResponse response;
        using (Terminal.Progress(Context, "checking and rotating" + (request.Services.Count > 0 ? " " + string.Join(", ", request.Services) : " managed services")))
        {
            response = await agent.PostAsync("/v1/rotate", request, IpcJson.Wire.RotateRequest, IpcJson.Wire.RotateResponse, cancellationToken);
        }

        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(JsonSerializer.Serialize(response, IpcJson.Wire.RotateResponse));
        }
        else
        {
            TextTable.Write(Context, ["PROJECT", "SERVICE", "STRATEGY", "RESULT", "TIME", "MESSAGE"], response.Results.Select(r => new[]
            {
                r.Project, r.Service, r.Strategy, r.Outcome, r.DurationSeconds.ToString("0.00s", CultureInfo.InvariantCulture), r.Message,
            }));
        }

        return response.Results.Any(r => r.Outcome == RotationResult.Failed) ? ExitCodes.Failure : ExitCodes.Success;
    }
}
