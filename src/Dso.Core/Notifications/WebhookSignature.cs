using System.Security.Cryptography;
using System.Text;

namespace Dso.Notifications;

/// <summary>
/// How DSO signs a webhook body, both ways — the notifications it sends and the change notices the
/// agent accepts: `X-Dso-Timestamp` (Unix seconds) and `X-Dso-Signature: sha256=HEX` with
/// HEX = HMAC-SHA256(secret, timestamp + "." + body).
/// </summary>
public static class WebhookSignature
{
    public const string TimestampHeader = "X-Dso-Timestamp";
    public const string SignatureHeader = "X-Dso-Signature";

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp + "."));
        hmac.AppendData(body);
        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }
}
