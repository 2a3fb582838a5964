using System.Globalization;
using Dso.Agent.Events;
using Dso.Agent.Ipc;
using Dso.Agent.Observability;
using Dso.Agent.Rest;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Ipc;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Endpoints;

/// <summary>
/// POST /v1/webhook/{provider}: a provider's change notice, checked before anything is spent on it.
/// The signature is checked first; until it holds, the provider text is not looked at (neither the
/// answer nor a metric label says which providers exist) and never reaches the audit log.
/// </summary>
internal static class WebhookEndpoint
{
    private const string UnknownProvider = "unknown";

    public static async Task<IResult> HandleAsync(string provider, HttpContext context, WebhookVerifier verifier, ChangeDetector detector, DsoMetrics metrics, EventHub events, AuditLog audit, ProviderHealthBook health)
    {
        string? known = null;
        IResult Refuse(string result, int status, string reason)
        {
            metrics.WebhookRequests.WithLabels(known ?? UnknownProvider, result).Inc();
            if (verifier.ShouldAuditRefusal(out var unaudited))
            {
                if (unaudited > 0)
                {
                    audit.Write("agent", "webhook", "(refusals)", "not_audited", $"{unaudited} refused webhook(s) in the previous minute were over the audit budget ({WebhookVerifier.AuditedRefusalsPerMinute} a minute)");
                }

                audit.Write(ConnectionChannel.Actor(context), "webhook", known ?? "(unknown provider)", result, reason);
            }

            return EndpointErrors.Result(status, reason);
        }

        if (!verifier.Enabled)
        {
            return Refuse("disabled", StatusCodes.Status503ServiceUnavailable, "webhooks are off: set agent.api.webhook_secret");
        }

        var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > WebhookVerifier.MaxBodyBytes)
            {
                return Refuse("too_large", StatusCodes.Status413PayloadTooLarge, $"the body is over {WebhookVerifier.MaxBodyBytes} bytes");
            }
        }

        var timestamp = context.Request.Headers[WebhookVerifier.TimestampHeader].ToString();
        if (verifier.Verify(timestamp, context.Request.Headers[WebhookVerifier.SignatureHeader], body.ToArray()) is { } refused)
        {
            return Refuse(refused.Result, refused.Result switch
            {
                "replay" => StatusCodes.Status409Conflict,
                "rate_limited" => StatusCodes.Status429TooManyRequests,
                _ => StatusCodes.Status401Unauthorized,
            }, refused.Reason);
        }

        known = health.Snapshot().Any(p => p.Name == provider) ? provider : null;
        if (known is null)
        {
            return Refuse("unknown_provider", StatusCodes.Status404NotFound, $"no provider named {Dso.Secrets.SecretReference.Printable(provider, 64)} is configured");
        }

        metrics.WebhookRequests.WithLabels(known, "accepted").Inc();
        audit.Write(ConnectionChannel.Actor(context), "webhook", known, "accepted");
        events.Publish("webhook.accepted", null, null, $"change notice for provider {known}");
        var sent = long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        detector.CheckNow(known, "webhook", sent);
        return Results.Json(new Dictionary<string, string> { ["status"] = "accepted" }, IpcJson.Wire.DictionaryStringString, statusCode: StatusCodes.Status202Accepted);
    }
}
