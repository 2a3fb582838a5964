using Dso.Agent.Events;
using Dso.Agent.Notifications;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Where every finished rotation goes, in one place: the last results (<see cref="RotationBook"/>,
/// for status and `rotate`), the service's state, metrics, the event stream, the audit log, the
/// agent's log (under the rotator's category, as before) and notifications.
/// </summary>
internal sealed partial class RotationResults(
    ProjectRegistry projects,
    RotationBook book,
    AgentNotifier notifier,
    EventHub events,
    AuditLog audit,
    DsoMetrics metrics,
    ILogger<ServiceRotator> log)
{
    /// <summary>Says that a rotation begins (state, event, log).</summary>
    public void Started(string project, string service, string strategy, string what, RotationTrigger trigger)
    {
        projects.Mark(project, service, "rotating", $"{what} ({trigger.Trigger})");
        events.Publish("rotation.started", project, service, $"{what} ({trigger.Trigger})");
        LogStarted(project, service, strategy, trigger.Trigger);
    }

    /// <summary>Records a finished rotation everywhere it is seen; returns it.</summary>
    public RotationResult Publish(RotationResult result, RotationTrigger trigger)
    {
        book.Record(result);
        metrics.Rotations.WithLabels(result.Strategy, result.Outcome).Inc();
        metrics.RotationDuration.WithLabels(result.Strategy).Observe(result.DurationSeconds);
        projects.Mark(result.Project, result.Service, result.Outcome == RotationResult.Failed ? "rotation failed" : "ok", result.Outcome == RotationResult.Failed ? result.Message : null);
        events.Publish($"rotation.{result.Outcome}", result.Project, result.Service, $"{result.Strategy}: {result.Message} ({result.DurationSeconds:0.###}s)");
        audit.Write(
            trigger.Actor,
            "rotate",
            $"{result.Project}/{result.Service}",
            result.Outcome,
            $"{result.Strategy}, {trigger.Trigger}: {result.Message}",
            new AuditRotation(
                trigger.Variables is { Count: > 0 } variables ? string.Join(",", variables.Order(StringComparer.Ordinal)) : null,
                result.Containers.Count > 0 ? result.Containers[^1] : null,
                (long)Math.Round(result.DurationSeconds * 1000)));
        if (result.Outcome == RotationResult.Failed)
        {
            LogFailed(result.Project, result.Service, result.Strategy, result.Message);
        }
        else
        {
            LogFinished(result.Project, result.Service, result.Strategy, result.Outcome, result.DurationSeconds, result.Message);
        }

        notifier.Notify(result);
        return result;
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "rotating {Project}/{Service} ({Strategy}, {Trigger})")]
    private partial void LogStarted(string project, string service, string strategy, string trigger);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "rotation of {Project}/{Service} ({Strategy}): {Outcome} in {Seconds}s: {Message}")]
    private partial void LogFinished(string project, string service, string strategy, string outcome, double seconds, string message);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "rotation of {Project}/{Service} ({Strategy}) failed: {Message}")]
    private partial void LogFailed(string project, string service, string strategy, string message);
}
