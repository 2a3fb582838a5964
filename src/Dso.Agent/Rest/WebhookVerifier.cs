using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dso.Notifications;

namespace Dso.Agent.Rest;

/// <summary>
/// Checks a webhook (spec G10): `X-Dso-Timestamp` (Unix seconds) within five minutes of now, and
/// `X-Dso-Signature: sha256=HEX` equal, in constant time, to HMAC-SHA256(secret, timestamp + "." +
/// body); a signature already accepted within the window is a replay. Only authentic requests
/// spend the per-minute rate budget, so forged ones cannot lock real webhooks out; refusals are
/// audited at most <see cref="AuditedRefusalsPerMinute"/> a minute, so they cannot fill the disk.
/// </summary>
internal sealed class WebhookVerifier(string? secret, int perMinute, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    public const string TimestampHeader = WebhookSignature.TimestampHeader;
    public const string SignatureHeader = WebhookSignature.SignatureHeader;
    public const int MaxBodyBytes = 64 * 1024;
    public const int AuditedRefusalsPerMinute = 30;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly MinuteWindow _rate = new(perMinute, time);
    private readonly MinuteWindow _refusals = new(AuditedRefusalsPerMinute, time);

    public bool Enabled => !string.IsNullOrEmpty(secret);

    /// <summary>True when this refusal still fits this minute's audit budget; <paramref name="unaudited"/>: refusals of the last minute that did not.</summary>
    public bool ShouldAuditRefusal(out int unaudited) => _refusals.TryAdmit(out unaudited);

    /// <summary>
    /// Null when the request is authentic, new, and within this minute's budget (it is then
    /// remembered, so it is a replay from now on); else the result label and the reason. Only an
    /// authentic request spends the budget, and one refused for it (429) may be sent again.
    /// </summary>
    public (string Result, string Reason)? Verify(string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        var now = time.GetUtcNow();
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return ("bad_signature", $"missing or malformed {TimestampHeader}");
        }

        var sent = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if ((now - sent).Duration() > Window)
        {
            return ("stale", $"{TimestampHeader} is more than {Window.TotalMinutes:0} minutes from the agent's clock");
        }

        if (signature is null || !signature.StartsWith("sha256=", StringComparison.Ordinal))
        {
            return ("bad_signature", $"missing or malformed {SignatureHeader} (expected sha256=HEX)");
        }

        var expected = Sign(secret!, timestamp!, body);
        var given = Encoding.ASCII.GetBytes(signature["sha256=".Length..].ToLowerInvariant());
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), given))
        {
            return ("bad_signature", "the signature does not match");
        }

        foreach (var old in _seen.Where(p => now - p.Value > Window * 2).Select(p => p.Key).ToList())
        {
            _seen.TryRemove(old, out _);
        }

        if (_seen.ContainsKey(expected))
        {
            return ("replay", "this request was already accepted");
        }

        if (!_rate.TryAdmit(out _))
        {
            return ("rate_limited", "too many webhook requests this minute (agent.api.webhook_rate)");
        }

        // Two copies of one request racing: the second to arrive here is the replay.
        return _seen.TryAdd(expected, now) ? null : ("replay", "this request was already accepted");
    }

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body) => WebhookSignature.Sign(secret, timestamp, body);
}
