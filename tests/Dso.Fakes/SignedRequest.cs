using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dso.Providers.Aws;

namespace Dso.Fakes;

/// <summary>Why AWS refuses a SigV4-signed request, in the words its services use.</summary>
public enum SignatureProblem
{
    None,
    MissingAuthentication,
    UnknownKey,
    BadSessionToken,
    Expired,
    Mismatch,
}

/// <summary>
/// Checks a SigV4-signed POST as AWS does, for the fakes that stand in for it (Secrets Manager, and
/// STS behind Vault's AWS auth): a known access key, the session token if one is sent, a date within
/// the allowed skew, and the signature over exactly the headers the client says it signed.
/// </summary>
public static class SignedRequest
{
    public static SignatureProblem Check(
        Func<string, string> header,
        ReadOnlySpan<byte> body,
        string path,
        string query,
        string accessKey,
        string secretKey,
        string? sessionToken,
        TimeSpan skew,
        string? service = null)
    {
        if (header("x-amz-security-token") is { Length: > 0 } token && token != sessionToken)
        {
            return SignatureProblem.BadSessionToken;
        }

        var authorization = header("authorization");
        var parts = authorization.Replace(SigV4.Algorithm + " ", "", StringComparison.Ordinal).Split(", ").Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!authorization.StartsWith(SigV4.Algorithm, StringComparison.Ordinal) || !parts.TryGetValue("Credential", out var credential) || !parts.TryGetValue("SignedHeaders", out var signed) || !parts.TryGetValue("Signature", out var signature))
        {
            return SignatureProblem.MissingAuthentication;
        }

        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[0] != accessKey || (service is not null && scope[3] != service))
        {
            return SignatureProblem.UnknownKey;
        }

        if (!DateTimeOffset.TryParseExact(header("x-amz-date"), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) || (DateTimeOffset.UtcNow - at).Duration() > skew)
        {
            return SignatureProblem.Expired;
        }

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in signed.Split(';'))
        {
            headers[name] = header(name);
        }

        var expected = SigV4.Signature(secretKey, scope[2], scope[3], at, headers, body, path, query);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)) ? SignatureProblem.None : SignatureProblem.Mismatch;
    }
}
