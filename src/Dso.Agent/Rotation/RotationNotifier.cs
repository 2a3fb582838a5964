using System.Globalization;
using System.Text;
using System.Text.Json;
using Dso.Agent.Observability;
using Dso.Agent.Rest;
using Dso.Configuration;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Posts rotation results to `notifications.webhooks` in the background: DSO's result object
/// (`json`) or a Slack-compatible `{"text": …}` (`slack`), signed like incoming webhooks when the
/// target has a secret (X-Dso-Timestamp, X-Dso-Signature), retried three times with backoff. A
/// notification never holds a value and never delays a rotation.
/// </summary>
internal sealed partial class RotationNotifier(NotificationsConfig config, SecretRedactor redactor, DsoMetrics metrics, TimeProvider time, ILogger<RotationNotifier> log) : IDisposable
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Notify(RotationResult result)
    {
        if (result.Outcome == RotationResult.Unchanged)
        {
            return;
        }

        foreach (var target in config.Webhooks.Where(t => t.On == "all" || result.Outcome == RotationResult.Failed))
        {
            _ = SendAsync(target, result);
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(NotificationTargetConfig target, RotationResult result)
    {
        var body = Encoding.UTF8.GetBytes(redactor.Redact(target.Format == "slack"
            ? JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = Text(result) }, RotationNotifierJson.Default.DictionaryStringString)
            : JsonSerializer.Serialize(result, IpcJson.Wire.RotationResult)));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                if (target.Secret is { Length: > 0 } secret)
                {
                    var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    request.Headers.Add(WebhookVerifier.TimestampHeader, timestamp);
                    request.Headers.Add(WebhookVerifier.SignatureHeader, "sha256=" + WebhookVerifier.Sign(secret, timestamp, body));
                }

                using var response = await _http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    metrics.Notifications.WithLabels("sent").Inc();
                    return;
                }

                if (attempt >= Backoff.Length || (int)response.StatusCode is >= 400 and < 500 and not 429)
                {
                    Fail(target, $"HTTP {(int)response.StatusCode}");
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (attempt >= Backoff.Length)
                {
                    Fail(target, e.Message);
                    return;
                }
            }

            await Task.Delay(Backoff[attempt], time);
        }
    }

    private void Fail(NotificationTargetConfig target, string reason)
    {
        metrics.Notifications.WithLabels("failed").Inc();
        LogFailed(new Uri(target.Url!).GetLeftPart(UriPartial.Authority), reason);
    }

    private static string Text(RotationResult result) => result.Outcome switch
    {
        RotationResult.Rotated => $":white_check_mark: DSO rotated {result.Project}/{result.Service} ({result.Strategy}, {result.DurationSeconds:0.##}s): {result.Message}",
        RotationResult.Failed => $":x: DSO could not rotate {result.Project}/{result.Service} ({result.Strategy}): {result.Message}",
        _ => $"DSO {result.Outcome} {result.Project}/{result.Service} ({result.Strategy}): {result.Message}",
    };

    [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "notification to {Target} failed: {Reason}")]
    private partial void LogFailed(string target, string reason);
}

