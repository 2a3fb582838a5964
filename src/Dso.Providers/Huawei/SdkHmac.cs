using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dso.Providers.Huawei;

/// <summary>
/// Huawei Cloud's AK/SK request signing, `SDK-HMAC-SHA256`: a canonical request (method, the path
/// with each segment percent-encoded and a trailing slash, the sorted query, every signed header
/// lower-cased and sorted, the body's SHA-256), signed with HMAC-SHA256 under the secret key over
/// the algorithm, the `X-Sdk-Date` and the canonical request's hash. The fake server verifies with
/// the same code; the Huawei Cloud SDK core for Node.js checks that both agree with it.
/// </summary>
internal static class SdkHmac
{
    public const string Algorithm = "SDK-HMAC-SHA256";

    public static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The Authorization header for a request whose signed headers (names lower-case) are <paramref name="headers"/>.</summary>
    public static string Authorization(string accessKey, string secretKey, string method, string path, IEnumerable<KeyValuePair<string, string>> query, SortedDictionary<string, string> headers, ReadOnlySpan<byte> body) =>
        $"{Algorithm} Access={accessKey}, SignedHeaders={string.Join(';', headers.Keys)}, Signature={Signature(secretKey, method, path, query, headers, body)}";

    public static string Signature(string secretKey, string method, string path, IEnumerable<KeyValuePair<string, string>> query, SortedDictionary<string, string> headers, ReadOnlySpan<byte> body)
    {
        var canonical = new StringBuilder()
            .Append(method).Append('\n')
            .Append(CanonicalPath(path)).Append('\n')
            .Append(string.Join('&', query.OrderBy(q => q.Key, StringComparer.Ordinal).ThenBy(q => q.Value, StringComparer.Ordinal).Select(q => $"{Encode(q.Key)}={Encode(q.Value)}"))).Append('\n');
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(string.Join(';', headers.Keys)).Append('\n').Append(Convert.ToHexStringLower(SHA256.HashData(body)));
        var date = headers.GetValueOrDefault("x-sdk-date") ?? "";
        var toSign = $"{Algorithm}\n{date}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))}";
        var key = Encoding.UTF8.GetBytes(secretKey);
        try
        {
            return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static string CanonicalPath(string path)
    {
        var encoded = string.Join('/', path.Split('/').Select(Encode));
        return encoded.EndsWith('/') ? encoded : encoded + "/";
    }

    /// <summary>Percent-encoding of everything but letters, digits and <c>-_.~</c>, on the UTF-8 bytes.</summary>
    private static string Encode(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
