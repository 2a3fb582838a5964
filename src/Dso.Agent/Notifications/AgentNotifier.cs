using System.Text;
using System.Text.Json;
using Dso.Agent.Observability;
using Dso.Notifications;
using Dso.Configuration;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Notifications;

/// <summary>
/// Posts to `notifications.webhooks` in the background: rotation results (DSO's result object) and
/// provider circuit-breaker changes (`{"event":"provider_circuit",…}`) as `json`, or a Slack-compatible
/// `{"text": …}` as `slack`; signed and retried by <see cref="NotificationSender"/>. A target with
/// `on: failed` gets failed rotations and circuits that open. A notification never holds a value
/// (the body goes through the redactor) and never delays a rotation.
/// </summary>
internal sealed partial class AgentNotifier(Hosting.LiveConfig config, SecretRedactor redactor, DsoMetrics metrics, TimeProvider time, ILogger<AgentNotifier> log) : IDisposable
{
    private readonly NotificationSender _sender = new(time);

    public void Notify(RotationResult result)
    {
        if (result.Outcome == RotationResult.Unchanged)
        {
            return;
        }

        var failed = result.Outcome == RotationResult.Failed;
        Post(failed, target => target.Format == "slack"
            ? Slack(result.Outcome switch
            {
                RotationResult.Rotated => $":white_check_mark: DSO rotated {result.Project}/{result.Service} ({result.Strategy}, {result.DurationSeconds:0.##}s): {result.Message}",
                RotationResult.Failed => $":x: DSO could not rotate {result.Project}/{result.Service} ({result.Strategy}): {result.Message}",
                _ => $"DSO {result.Outcome} {result.Project}/{result.Service} ({result.Strategy}): {result.Message}",
            })
            : JsonSerializer.Serialize(result, IpcJson.Wire.RotationResult));
    }

    /// <summary>A provider's circuit breaker moved from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void NotifyCircuit(string provider, string from, string to, string? error)
    {
        var notification = new CircuitNotification("provider_circuit", provider, from, to, error, time.GetUtcNow());
        Post(to == "open", target => target.Format == "slack"
            ? Slack(to switch
            {
                "open" => $":warning: DSO stopped calling provider {provider}: its circuit is open after repeated failures ({error ?? "no error given"}); containers keep their last values",
                "closed" => $":white_check_mark: DSO provider {provider} answers again (circuit closed, was {from})",
                _ => $"DSO provider {provider}: circuit {to} (was {from})",
            })
            : JsonSerializer.Serialize(notification, NotificationJson.Default.CircuitNotification));
    }

    public void Dispose() => _sender.Dispose();

    private static string Slack(string text) => JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text }, NotificationJson.Default.DictionaryStringString);

    private void Post(bool failure, Func<NotificationTargetConfig, string> body)
    {
        foreach (var target in config.Current.Notifications.Webhooks.Where(t => t.On == "all" || failure))
        {
            _ = SendAsync(target, Encoding.UTF8.GetBytes(redactor.Redact(body(target))));
        }
    }

    private async Task SendAsync(NotificationTargetConfig target, byte[] body)
    {
        var outcome = await _sender.SendAsync(target, body);
        metrics.Notifications.WithLabels(outcome.Sent ? "sent" : "failed").Inc();
        if (!outcome.Sent)
        {
            LogFailed(NotificationSender.Display(target), outcome.Attempts, outcome.Error ?? "unknown error");
        }
    }

    [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "notification to {Target} failed after {Attempts} attempts: {Reason}")]
    private partial void LogFailed(string target, int attempts, string reason);
}
