using Dso.Agent.Events;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Injection.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// At start-up, before anything else touches containers, settles every swap the journal shows as
/// open (G7): one that had not reached the switch is undone — the old containers serve again — and
/// its service is handed back for a fresh rotation, so it ends on the newest secret; one past the
/// switch is finished. Either way the service ends with one set of containers under their names.
/// </summary>
internal sealed partial class SwapRecovery(
    RotationJournal journal,
    ContainerSwap swap,
    ProjectRegistry projects,
    SecretStore store,
    DsoMetrics metrics,
    AuditLog audit,
    EventHub events,
    TimeProvider time,
    ILogger<SwapRecovery> log)
{
    /// <summary>Settles the open swaps; returns the services that must rotate again.</summary>
    public async Task<IReadOnlyList<(string Project, string Service)>> RecoverAsync(CancellationToken cancellationToken)
    {
        var again = new List<(string Project, string Service)>();
        var open = journal.Incomplete();
        foreach (var entry in open)
        {
            var target = $"{entry.Project}/{entry.Service}";
            try
            {
                if (SwapPhases.IsCommitted(entry.Mode, entry.Phase) && IsSuperseded(entry, open))
                {
                    // A later swap of the service took this one's new containers as its old ones (it
                    // was still draining): its switch is history; only its old containers are left to go.
                    await swap.RetireAsync(entry, cancellationToken);
                    metrics.RotationRecoveries.WithLabels("finished").Inc();
                    audit.Write("agent", "recover", target, "finished", $"{entry.Mode} swap {entry.Id}: drained old containers removed (a later swap replaced its new ones)");
                    LogRecovered(target, entry.Id, entry.Phase, "old containers removed");
                }
                else if (SwapPhases.IsCommitted(entry.Mode, entry.Phase))
                {
                    await swap.FinishAsync(entry, cancellationToken);
                    var references = projects.TryGet(entry.Project)?.Registration.Services.FirstOrDefault(s => s.Name == entry.Service)?.References.Count ?? 0;
                    projects.Commit(entry.Project, entry.Service, new ServiceState("ok", null, references, entry.Fingerprint, store.MountPath(entry.Project, entry.Service), time.GetUtcNow()));
                    metrics.RotationRecoveries.WithLabels("finished").Inc();
                    audit.Write("agent", "recover", target, "finished", $"{entry.Mode} swap {entry.Id} was past the switch at {entry.Phase}");
                    events.Publish("rotation.recovered", entry.Project, entry.Service, $"finished the {entry.Mode} swap interrupted at {entry.Phase}");
                    LogRecovered(target, entry.Id, entry.Phase, "finished");
                }
                else
                {
                    await swap.UndoAsync(entry, "rolled back after a restart", cancellationToken);
                    metrics.RotationRecoveries.WithLabels("rolled_back").Inc();
                    audit.Write("agent", "recover", target, "rolled_back", $"{entry.Mode} swap {entry.Id} stopped at {entry.Phase}; rotating again");
                    events.Publish("rotation.recovered", entry.Project, entry.Service, $"undid the {entry.Mode} swap interrupted at {entry.Phase}; rotating again");
                    LogRecovered(target, entry.Id, entry.Phase, "rolled back; rotating again");
                    again.Add((entry.Project, entry.Service));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRecoveryFailed(target, entry.Id, entry.Phase, e.Message);
                audit.Write("agent", "recover", target, "failed", e.Message);
            }
        }

        // A crash between writing a new generation and journaling its swap leaves it behind unjournaled.
        foreach (var project in projects.Snapshot())
        {
            foreach (var service in project.Registration.Services)
            {
                if (store.CurrentGeneration(project.Name, service.Name) is not null && store.PruneGenerations(project.Name, service.Name) is > 0 and var pruned)
                {
                    LogPruned(pruned, $"{project.Name}/{service.Name}");
                }
            }
        }

        return again;
    }

    /// <summary>True when another open swap of the same service started from this one's new containers.</summary>
    private static bool IsSuperseded(JournalEntry entry, IReadOnlyList<JournalEntry> open) =>
        open.Any(other => other.Id != entry.Id && other.Project == entry.Project && other.Service == entry.Service
            && other.Containers.Any(later => entry.Containers.Any(c => c.NewId is not null && c.NewId == later.OldId)));

    [LoggerMessage(EventId = 450, Level = LogLevel.Warning, Message = "interrupted rotation of {Target} (swap {Id} at {Phase}): {What}")]
    private partial void LogRecovered(string target, string id, SwapPhase phase, string what);

    [LoggerMessage(EventId = 452, Level = LogLevel.Information, Message = "removed {Count} unused generation(s) of secrets of {Target}")]
    private partial void LogPruned(int count, string target);

    [LoggerMessage(EventId = 451, Level = LogLevel.Error, Message = "cannot recover the rotation of {Target} (swap {Id} at {Phase}): {Error}; check its containers with docker ps -a")]
    private partial void LogRecoveryFailed(string target, string id, SwapPhase phase, string error);
}
