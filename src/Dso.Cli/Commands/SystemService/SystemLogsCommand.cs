using System.CommandLine;
using System.Text.RegularExpressions;
using Dso.Cli.Agent;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// `docker dso system logs [-f] [-p PRIORITY] [--since WHEN] [-n N]`: the agent's journal through
/// journalctl; `--api [--api-addr URL]` reads the agent's event stream from its REST address
/// instead, for hosts without journald.
/// </summary>
internal sealed partial class SystemLogsCommand : DsoCommand
{
    private static readonly string[] Priorities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "0", "1", "2", "3", "4", "5", "6", "7"];

    private readonly Option<bool> _follow = new("--follow", "-f") { Description = "Keep printing new entries until interrupted." };
    private readonly Option<string?> _priority = new("--priority", "-p") { Description = "Only entries of this priority or more severe (emerg, alert, crit, err, warning, notice, info, debug).", HelpName = "PRIORITY" };
    private readonly Option<string?> _since = new("--since") { Description = "Entries since this time: a duration ago (30m, 1h, 2d) or anything journalctl accepts (\"2026-01-31 10:00\", today).", HelpName = "WHEN" };
    private readonly Option<int?> _lines = new("--lines", "-n") { Description = "Only the last N entries.", HelpName = "N" };
    private readonly Option<bool> _api = new("--api") { Description = "Read the agent's events from its REST API instead of the journal (hosts without journald)." };
    private readonly Option<string?> _apiAddress = new("--api-addr") { Description = "The REST API's address (default: agent.api.address from dso.yaml, http://127.0.0.1:8471).", HelpName = "URL" };

    public SystemLogsCommand(CliContext context)
        : base(context, "logs", "Show the agent's log (journald), or its event stream from the REST API with --api.")
    {
        Options.Add(_follow);
        Options.Add(_priority);
        Options.Add(_since);
        Options.Add(_lines);
        Options.Add(_api);
        Options.Add(_apiAddress);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        if (parseResult.GetValue(_api) || parseResult.GetValue(_apiAddress) is not null)
        {
            return await FromApiAsync(parseResult, cancellationToken);
        }

        var arguments = new List<string> { "--unit", SystemLayout.AgentUnit, "--no-pager", "--output", "short-iso" };
        if (parseResult.GetValue(_priority) is { } priority)
        {
            if (!Priorities.Contains(priority, StringComparer.Ordinal))
            {
                throw new UsageException($"-p {priority}: not a priority; use one of emerg, alert, crit, err, warning, notice, info, debug (or 0-7)");
            }

            arguments.AddRange(["--priority", priority]);
        }

        if (parseResult.GetValue(_since) is { } since)
        {
            arguments.AddRange(["--since", Since(since)]);
        }

        if (parseResult.GetValue(_lines) is { } lines)
        {
            if (lines < 0)
            {
                throw new UsageException($"-n {lines}: the number of entries cannot be negative");
            }

            arguments.AddRange(["--lines", lines.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (parseResult.GetValue(_follow))
        {
            arguments.Add("--follow");
        }

        if (!Systemd.IsRunning(Context))
        {
            throw new DsoException("no journal on this host (systemd is not its init): read the agent's events with 'docker dso system logs --api', or the output of the 'docker dso agent' you started");
        }

        return await Systemd.ShowAsync(Context, "journalctl", arguments, cancellationToken);
    }

    /// <summary>journalctl reads "1h" as a time of day; a bare duration means that long ago.</summary>
    internal static string Since(string value) =>
        Duration().IsMatch(value) ? "-" + value : value;

    private async Task<int> FromApiAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var text = parseResult.GetValue(_apiAddress)
            ?? "http://" + Dso.Configuration.ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory).Config.Agent.Api.Address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--api-addr {text}: not an http:// or https:// address (for example http://localhost:8471)");
        }

        try
        {
            await foreach (var item in AgentClient.RestEventsAsync(address, Context.GetEnvironmentVariable("DSO_API_TOKEN"), cancellationToken))
            {
                Context.Out.WriteLine($"{item.Time.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {item.Type,-20} {(item.Project is null ? string.Empty : item.Service is null ? $"{item.Project}: " : $"{item.Project}/{item.Service}: ")}{item.Message}");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }

        throw new DsoException($"the agent at {address} closed the event stream (it stopped?)");
    }

    [GeneratedRegex(@"^\d+(s|m|min|h|d|w)$")]
    private static partial Regex Duration();
}
