using System.Text;
using System.Text.Json;
using Dso.Providers.Aws;

namespace Dso.Providers.HashiCorp;

/// <summary>
/// The body of Vault's AWS auth login with the iam method (`auth/aws/login`): an
/// `sts:GetCallerIdentity` request signed with the host's AWS credentials (the SDK's default chain:
/// environment, shared profile, ECS container or EC2 instance role), which Vault forwards to STS to
/// learn who is asking. Nothing secret leaves: only the signature, never the secret key. Params:
/// `role` (the Vault role), `header_value` (signed as `X-Vault-AWS-IAM-Server-ID` when the mount
/// requires it), `region` (default us-east-1, the global endpoint) and `sts_endpoint`.
/// </summary>
internal static class VaultAwsLogin
{
    private const string StsBody = "Action=GetCallerIdentity&Version=2011-06-15";

    public static async Task<byte[]> BodyAsync(IReadOnlyDictionary<string, string> p, TimeProvider time)
    {
        var region = p.GetValueOrDefault("region", "us-east-1");
        var endpoint = new Uri(p.GetValueOrDefault("sts_endpoint") ?? (region == "us-east-1" ? "https://sts.amazonaws.com/" : $"https://sts.{region}.amazonaws.com/"));
        var credentials = await AwsCredentialChain.ResolveAsync(AwsCredentialChain.Default());
        var at = time.GetUtcNow();
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["host"] = endpoint.Authority,
            ["x-amz-date"] = SigV4.AmzDate(at),
        };
        if (credentials.UseToken)
        {
            headers["x-amz-security-token"] = credentials.Token;
        }

        if (p.GetValueOrDefault("header_value") is { Length: > 0 } serverId)
        {
            headers["x-vault-aws-iam-server-id"] = serverId;
        }

        var body = Encoding.UTF8.GetBytes(StsBody);
        var authorization = SigV4.Authorization(credentials.AccessKey, credentials.SecretKey, region, "sts", at, headers, body, endpoint.AbsolutePath);
        headers["authorization"] = authorization;

        using var sent = new MemoryStream();
        using (var writer = new Utf8JsonWriter(sent))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in headers)
            {
                writer.WriteStartArray(name);
                writer.WriteStringValue(value);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        using var login = new MemoryStream();
        using (var writer = new Utf8JsonWriter(login))
        {
            writer.WriteStartObject();
            if (p.GetValueOrDefault("role") is { Length: > 0 } role)
            {
                writer.WriteString("role", role);
            }

            writer.WriteString("iam_http_request_method", "POST");
            writer.WriteString("iam_request_url", Convert.ToBase64String(Encoding.UTF8.GetBytes(endpoint.AbsoluteUri)));
            writer.WriteString("iam_request_body", Convert.ToBase64String(body));
            writer.WriteString("iam_request_headers", Convert.ToBase64String(sent.ToArray()));
            writer.WriteEndObject();
        }

        return login.ToArray();
    }
}
