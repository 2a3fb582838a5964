using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dso.Providers.Aws;

/// <summary>
/// AWS Signature Version 4 for a JSON-protocol POST to `/` (all Secrets Manager needs): the
/// canonical request over the signed headers and the body's SHA-256, the string to sign over the
/// credential scope, and the derived signing key. Also used by the fake server to verify.
/// </summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The Authorization header value for a request with these (lower-case) headers and body.</summary>
    public static string Authorization(string accessKey, string secretKey, string region, string service, DateTimeOffset at, SortedDictionary<string, string> headers, ReadOnlySpan<byte> body, string path = "/", string query = "")
    {
        var date = at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{service}/aws4_request";
        var signedHeaders = string.Join(';', headers.Keys);
        return $"{Algorithm} Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={Signature(secretKey, region, service, at, headers, body, path, query)}";
    }

    public static string Signature(string secretKey, string region, string service, DateTimeOffset at, SortedDictionary<string, string> headers, ReadOnlySpan<byte> body, string path, string query)
    {
        var date = at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var amzDate = AmzDate(at);
        var canonical = new StringBuilder()
            .Append("POST\n").Append(path).Append('\n').Append(query).Append('\n');
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':').Append(string.Join(' ', value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');
        }

        canonical.Append('\n').Append(string.Join(';', headers.Keys)).Append('\n').Append(Hex(SHA256.HashData(body)));
        var scope = $"{date}/{region}/{service}/aws4_request";
        var toSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))}";
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), date), region), service), "aws4_request");
        var signature = Hex(Hmac(key, toSign));
        CryptographicOperations.ZeroMemory(key);
        return signature;
    }

    public static string AmzDate(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
