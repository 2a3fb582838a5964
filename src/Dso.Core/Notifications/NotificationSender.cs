using System.Globalization;
using Dso.Configuration;

namespace Dso.Notifications;

/// <summary>How one post to a notification target ended.</summary>
internal sealed record NotificationOutcome(bool Sent, int Attempts, string? Error);

/// <summary>
/// Posts one JSON body to a notification target: signed like incoming webhooks when the target has
/// a secret (X-Dso-Timestamp, X-Dso-Signature: sha256=HMAC(secret, timestamp + "." + body)), retried
/// with backoff on a network error, a 5xx or a 429 (a 4xx is final).
/// </summary>
internal sealed class NotificationSender(TimeProvider time, IReadOnlyList<TimeSpan>? backoff = null) : IDisposable
{
    public static readonly IReadOnlyList<TimeSpan> DefaultBackoff = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly IReadOnlyList<TimeSpan> _backoff = backoff ?? DefaultBackoff;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The target's scheme, host and port: what logs and reports name (the path may hold a token).</summary>
    public static string Display(NotificationTargetConfig target) =>
        Uri.TryCreate(target.Url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "(invalid url)";

    public async Task<NotificationOutcome> SendAsync(NotificationTargetConfig target, byte[] body, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            string error;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                if (target.Secret is { Length: > 0 } secret)
                {
                    var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
                    request.Headers.Add(WebhookSignature.SignatureHeader, "sha256=" + WebhookSignature.Sign(secret, timestamp, body));
                }

                using var response = await _http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return new NotificationOutcome(true, attempt, null);
                }

                error = $"HTTP {(int)response.StatusCode}";
                if ((int)response.StatusCode is >= 400 and < 500 and not 429)
                {
                    return new NotificationOutcome(false, attempt, error);
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                error = e.Message;
            }

            if (attempt > _backoff.Count)
            {
                return new NotificationOutcome(false, attempt, error);
            }

            await Task.Delay(_backoff[attempt - 1], time, cancellationToken);
        }
    }

    public void Dispose() => _http.Dispose();
}
