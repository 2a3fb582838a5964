using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dso.Ipc;

namespace Dso.Cli.Commands.Agent;

/// <summary>
/// `docker dso status`: the agent, its providers, and every managed project, service and container;
/// without an agent (local mode), that mode, the vault and the containers DSO started.
/// </summary>
internal sealed class StatusCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("Print the status as JSON (shape documented in docs/cli.md).");
    private readonly Option<bool> _watch = new("--watch") { Description = "Print it again every 2 seconds until interrupted." };

    public StatusCommand(CliContext context)
        : base(context, "status", "Show the agent's health, providers, managed projects and containers; without an agent, local mode, the vault and the containers DSO started.")
    {
        Options.Add(_json);
        Options.Add(_watch);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var socket = AgentConnection.SocketPath(Context);
        using var agent = await Dso.Cli.Agent.AgentClient.TryConnectAsync(socket, cancellationToken);
        if (agent is null)
        {
            return await LocalAsync(parseResult, socket, cancellationToken);
        }

        do
        {
            var report = await agent.GetAsync("/v1/status", IpcJson.Wire.StatusReport, cancellationToken);
            if (parseResult.GetValue(_json))
            {
                Context.Out.WriteLine(JsonSerializer.Serialize(report, IpcJson.Wire.StatusReport));
            }
            else
            {
                Write(report);
            }

            if (!parseResult.GetValue(_watch))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            Context.Out.WriteLine();
        }
        while (!cancellationToken.IsCancellationRequested);

        return ExitCodes.Success;
    }

    private async Task<int> LocalAsync(ParseResult parseResult, string socket, CancellationToken cancellationToken)
    {
        do
        {
            var status = await LocalStatus.ReadAsync(Context, socket, cancellationToken);
            if (parseResult.GetValue(_json))
            {
                Context.Out.WriteLine(JsonSerializer.Serialize(status, LocalStatusJson.Default.LocalStatus));
            }
            else
            {
                status.Write(Context.Out);
                if (status.Containers.Count > 0)
                {
                    TextTable.Write(Context, ["PROJECT", "SERVICE", "CONTAINER", "STATE"], status.Containers.Select(c => new[] { c.Project, c.Service, c.Container, c.State }));
                }
            }

            if (!parseResult.GetValue(_watch))
            {
                return ExitCodes.Success;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            Context.Out.WriteLine();
        }
        while (true);
    }

    private void Write(StatusReport report)
    {
        var agent = report.Agent;
        Context.Out.WriteLine($"agent  DSO {agent.Version}, pid {agent.Pid}, up {TimeSpan.FromSeconds(agent.UptimeSeconds):d\\.hh\\:mm\\:ss}, {(agent.Ready ? "ready" : "starting")}");
        Context.Out.WriteLine($"       socket {agent.Socket}, api {agent.Api}, secrets {agent.SecretsDirectory}, memory lock {agent.MemoryLock}");
        if (agent.ConfigLoadedAt is { } loadedAt)
        {
            Context.Out.WriteLine($"       config {agent.Config ?? "defaults (no dso.yaml)"}, loaded {loadedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}"
                + (agent.ConfigError is { } error ? $"; last reload refused: {error}" : string.Empty));
        }

        if (agent.SecretDriver is { } driver)
        {
            Context.Out.WriteLine($"       Swarm secret driver {driver} on {agent.SecretDriverSocket}");
        }
        Context.Out.WriteLine();
        TextTable.Write(Context, ["PROVIDER", "TYPE", "STATE", "CIRCUIT", "LAST ERROR"], report.Providers.Select(p => new[]
        {
            p.Name, p.Type + (p.Insecure ? " (insecure)" : string.Empty), p.State, p.Circuit, p.LastError ?? string.Empty,
        }));
        Context.Out.WriteLine();
        if (report.Projects.Count == 0)
        {
            Context.Out.WriteLine("no managed projects yet ('docker dso up' or 'docker dso stack deploy' registers one)");
            return;
        }

        TextTable.Write(Context, ["PROJECT", "SERVICE", "SECRETS", "STATE", "CONTAINERS", "STRATEGY", "PROXY", "LAST ROTATION", "MESSAGE"], report.Projects.SelectMany(p => p.Services.Select(s => new[]
        {
            p.Name,
            s.Name,
            s.Secrets.ToString(CultureInfo.InvariantCulture),
            s.State,
            s.Swarm is { } swarm ? $"{swarm.Running}/{swarm.Desired} task(s) of {swarm.Service}"
                : s.Containers.Count == 0 ? "-" : string.Join(", ", s.Containers.Select(c => $"{c.Name} ({c.State})")),
            s.Strategy,
            s.ProxiedPorts.Count == 0 ? "-" : string.Join(", ", s.ProxiedPorts),
            s.LastRotation is { } last ? $"{last.Outcome} {last.StartedAt.ToLocalTime():HH:mm:ss} ({last.DurationSeconds.ToString("0.00", CultureInfo.InvariantCulture)}s)" : "-",
            s.Message ?? s.LastRotation?.Message ?? string.Empty,
        })));
        var swarmServices = report.Projects.SelectMany(p => p.Services).Select(s => s.Swarm).OfType<SwarmServiceStatus>().ToList();
        if (swarmServices.Count > 0)
        {
            Context.Out.WriteLine();
            TextTable.Write(Context, ["SWARM SERVICE", "TASKS", "UPDATE", "SECRET VERSIONS"], swarmServices.Select(w => new[]
            {
                w.Service,
                $"{w.Running}/{w.Desired}",
                w.Error ?? (w.UpdateState is null ? "-" : w.UpdateState + (w.UpdateMessage is { } message ? $" ({message})" : string.Empty)),
                w.Versions.Count == 0 ? "-" : string.Join(", ", w.Versions),
            }));
        }

        var checks = report.Projects.SelectMany(p => p.Services.SelectMany(s => s.Checks)).Where(c => c.NextCheck is not null).ToList();
        if (checks.Count > 0)
        {
            Context.Out.WriteLine();
            Context.Out.WriteLine($"checks {checks.Count} secret reference(s); next at {checks.Min(c => c.NextCheck)!.Value.ToLocalTime():HH:mm:ss}, last at {(checks.Max(c => c.LastCheck) is { } lastCheck ? lastCheck.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) : "-")} ('status --json' lists each)");
        }
        Context.Out.WriteLine();
        Context.Out.WriteLine($"cache  {(report.Cache.Enabled ? $"{report.Cache.Entries} value(s), {report.Cache.Hits} hit(s), {report.Cache.Misses} miss(es), {report.Cache.LastKnownGoodServed} last-known-good" : "off")}");
    }
}
