using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Dso.Plugins;
using Dso.Providers.Plugins;

namespace Dso.Providers.Aws;

/// <summary>
/// AWS Secrets Manager over its JSON protocol (the SDK package for it is not served; AWSSDK.Core's
/// credential chain is): `BatchGetSecretValue` (20 per call) for current values, `GetSecretValue`
/// for pinned versions (`@VERSIONID`), `DescribeSecret` for the cheap check (the AWSCURRENT
/// version id, no value read). Credentials allowed only `GetSecretValue` (the least-privilege policy
/// many guides show) still work: once IAM denies the batch or the describe call, the backend uses
/// `GetSecretValue` for values and for versions (its VersionId) from then on. Requests are signed with SigV4. Credentials: `default`/`iam_role`
/// (the SDK's chain: environment, shared profile, ECS container credentials, EC2 IMDSv2), `env`,
/// `profile` (auth.params.profile), `static` (auth.params access_key_id, secret_access_key,
/// session_token).
/// </summary>
internal sealed class AwsBackend : IPluginBackend
{
    private const int MaxBody = 512 * 1024;

    /// <summary>What the provider's credentials must be allowed (docs/providers.md, "aws").</summary>
    private const string AccessHint = "the credentials DSO uses need secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key when it is a customer-managed one); secretsmanager:BatchGetSecretValue and secretsmanager:DescribeSecret make reads and version checks cheaper";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly AWSCredentials _credentials;
    private readonly TimeProvider _time;

    // Set once IAM refuses the call: the credentials are allowed GetSecretValue only, and it serves instead.
    private volatile bool _batchDenied;
    private volatile bool _describeDenied;

    public AwsBackend(BackendConfig config, TimeProvider time)
    {
        _time = time;
        _region = config.Region ?? throw new BackendException(PluginErrorCodes.Denied, "no region: set region: (for example us-east-1)");
        _endpoint = new Uri(config.Endpoint ?? $"https://secretsmanager.{_region}.amazonaws.com/");
        _http = new HttpClient { Timeout = config.Timeout * 0.8 };
        var p = config.AuthParams;
        try
        {
            _credentials = (config.AuthMethod ?? "default") switch
            {
                "static" => p.GetValueOrDefault("session_token") is { } token
                    ? new SessionAWSCredentials(Need(p, "access_key_id"), Need(p, "secret_access_key"), token)
                    : new BasicAWSCredentials(Need(p, "access_key_id"), Need(p, "secret_access_key")),
                "env" => new EnvironmentVariablesAWSCredentials(),
                "profile" => new CredentialProfileStoreChain().TryGetAWSCredentials(Need(p, "profile"), out var found)
                    ? found
                    : throw new BackendException(PluginErrorCodes.Denied, $"no AWS profile named {p["profile"]} in the shared credentials or config file"),
                _ => AwsCredentialChain.Default(),
            };
        }
        catch (AmazonClientException e)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"no AWS credentials: {e.Message}");
        }
    }

    public bool Versions => true;

    public int MaxBatch => 100;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new ResolvedSecret?[requests.Count];
        var current = Enumerable.Range(0, requests.Count).Where(i => requests[i].Version is null).ToList();
        foreach (var chunk in _batchDenied ? [] : current.Chunk(20))
        {
            var body = Json(w =>
            {
                w.WriteStartArray("SecretIdList");
                foreach (var i in chunk)
                {
                    w.WriteStringValue(requests[i].Path);
                }

                w.WriteEndArray();
            });
            using var response = await CallAsync("BatchGetSecretValue", body, cancellationToken);
            if (response.Denied)
            {
                // Allowed GetSecretValue only: these and every later value are read one by one below.
                _batchDenied = true;
                break;
            }

            if (response.Error is { } error)
            {
                foreach (var i in chunk)
                {
                    answers[i] = error.Transient ? ResolvedSecret.Failed(error.Message) : ResolvedSecret.Missing(error.Message);
                }

                continue;
            }

            using var document = JsonDocument.Parse(response.Body);
            var byName = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var value in document.RootElement.TryGetProperty("SecretValues", out var values) ? values.EnumerateArray() : default)
            {
                foreach (var key in new[] { "Name", "ARN" })
                {
                    if (value.TryGetProperty(key, out var id) && id.GetString() is { } text)
                    {
                        byName[text] = value;
                    }
                }
            }

            var errors = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in document.RootElement.TryGetProperty("Errors", out var list) ? list.EnumerateArray() : default)
            {
                var code = item.GetProperty("ErrorCode").GetString();
                errors[item.GetProperty("SecretId").GetString()!] = $"{code}: {(item.TryGetProperty("Message", out var m) ? m.GetString() : "")}{(code is "AccessDeniedException" ? "; " + AccessHint : "")}";
            }

            foreach (var i in chunk)
            {
                var path = requests[i].Path;
                answers[i] = byName.TryGetValue(path, out var found) ? Value(found, path)
                    : ResolvedSecret.Missing(errors.TryGetValue(path, out var why) ? $"{path}: {why}" : $"{path} not found in Secrets Manager");
            }
        }

        // Pinned versions, and current values when the batch is not allowed.
        for (var i = 0; i < requests.Count; i++)
        {
            if (answers[i] is null)
            {
                var version = requests[i].Version;
                var body = Json(w =>
                {
                    w.WriteString("SecretId", requests[i].Path);
                    if (version is not null)
                    {
                        w.WriteString("VersionId", version);
                    }
                });
                using var response = await CallAsync("GetSecretValue", body, cancellationToken);
                if (response.Error is { } error)
                {
                    answers[i] = error.Transient ? ResolvedSecret.Failed(error.Message) : ResolvedSecret.Missing(error.Message);
                    continue;
                }

                using var document = JsonDocument.Parse(response.Body);
                answers[i] = Value(document.RootElement, requests[i].Path);
            }
        }

        return [.. answers.Select(a => a!)];
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var versions = new List<SecretVersion>(requests.Count);
        foreach (var request in requests)
        {
            if (!_describeDenied)
            {
                using var described = await CallAsync("DescribeSecret", Json(w => w.WriteString("SecretId", request.Path)), cancellationToken);
                if (!described.Denied)
                {
                    versions.Add(VersionOf(described, request.Path));
                    continue;
                }

                _describeDenied = true;
            }

            // Allowed GetSecretValue only: its VersionId is the version (the value read is zeroed unused).
            using var read = await CallAsync("GetSecretValue", Json(w => w.WriteString("SecretId", request.Path)), cancellationToken);
            versions.Add(VersionOf(read, request.Path));
        }

        return versions;
    }

    /// <summary>The version a DescribeSecret (the id staged AWSCURRENT, LastChangedDate) or GetSecretValue (VersionId, CreatedDate) answer gives.</summary>
    private static SecretVersion VersionOf(AwsResponse response, string path)
    {
        if (response.Error is { } error)
        {
            return new SecretVersion(null, null, error.Message, error.Transient);
        }

        using var document = JsonDocument.Parse(response.Body);
        var root = document.RootElement;
        var current = root.TryGetProperty("VersionIdsToStages", out var stages)
            ? stages.EnumerateObject().FirstOrDefault(s => s.Value.EnumerateArray().Any(x => x.GetString() == "AWSCURRENT")).Name
            : root.TryGetProperty("VersionId", out var id) ? id.GetString() : null;
        DateTimeOffset? changed = (root.TryGetProperty("LastChangedDate", out var d) || root.TryGetProperty("CreatedDate", out d)) && d.TryGetDouble(out var seconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000))
            : null;
        return current is null ? new SecretVersion(null, null, $"{path} has no AWSCURRENT version") : new SecretVersion(current, changed);
    }

    public async Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken)
    {
        using var response = await CallAsync("ListSecrets", Json(w => w.WriteNumber("MaxResults", 1)), cancellationToken);
        return response.Error is { } error ? (false, error.Message) : (true, $"Secrets Manager at {_endpoint.Host} answers");
    }

    public void Dispose() => _http.Dispose();

    private static string Need(IReadOnlyDictionary<string, string> p, string key) =>
        p.GetValueOrDefault(key) is { Length: > 0 } value ? value : throw new BackendException(PluginErrorCodes.Denied, $"auth.params.{key} is required for this auth method");

    private static ResolvedSecret Value(JsonElement secret, string path) =>
        secret.TryGetProperty("SecretString", out var text) && text.ValueKind == JsonValueKind.String ? ResolvedSecret.Found(PluginAnswers.CopyString(text))
        : secret.TryGetProperty("SecretBinary", out var binary) && binary.TryGetBytesFromBase64(out var bytes) ? Found(bytes)
        : ResolvedSecret.Missing($"{path} has no value in Secrets Manager");

    private static ResolvedSecret Found(byte[] bytes)
    {
        var value = Dso.Secrets.SecretValue.FromBytes(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return ResolvedSecret.Found(value);
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task<AwsResponse> CallAsync(string action, byte[] body, CancellationToken cancellationToken)
    {
        ImmutableCredentials credentials;
        try
        {
            credentials = await _credentials.GetCredentialsAsync();
        }
        catch (AmazonClientException e)
        {
            return new AwsResponse([], ($"no AWS credentials: {e.Message}", true));
        }

        var now = _time.GetUtcNow();
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["host"] = _endpoint.IsDefaultPort ? _endpoint.Host : $"{_endpoint.Host}:{_endpoint.Port}",
            ["x-amz-date"] = SigV4.AmzDate(now),
            ["x-amz-target"] = "secretsmanager." + action,
        };
        if (!string.IsNullOrEmpty(credentials.Token))
        {
            headers["x-amz-security-token"] = credentials.Token;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        foreach (var (name, value) in headers.Where(h => h.Key is not ("content-type" or "host")))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.Host = headers["host"];
        request.Headers.TryAddWithoutValidation("Authorization", SigV4.Authorization(credentials.AccessKey, credentials.SecretKey, _region, "secretsmanager", now, headers, body));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var bytes = await BackendHttp.ReadCappedAsync(response, MaxBody, cancellationToken);
            if (bytes is null)
            {
                return new AwsResponse([], ($"Secrets Manager's answer to {action} is over {MaxBody / 1024} KiB", true));
            }

            if (response.IsSuccessStatusCode)
            {
                if (IsJson(bytes))
                {
                    return new AwsResponse(bytes, null);
                }

                // A proxy's error page or a broken answer: nothing to read a value from.
                CryptographicOperations.ZeroMemory(bytes);
                return new AwsResponse([], ($"Secrets Manager's answer to {action} is not JSON (HTTP {(int)response.StatusCode}, {response.Content.Headers.ContentType?.MediaType ?? "no content type"})", true));
            }

            var (type, message) = ErrorOf(bytes);
            CryptographicOperations.ZeroMemory(bytes);
            if (type is "AccessDeniedException")
            {
                // Not an outage but IAM's answer: fail closed (access revoked on purpose must stop delivery) and say what to grant.
                return new AwsResponse([], ($"Secrets Manager {action}: {type}: {message}; {AccessHint}", false), denied: true);
            }

            var transient = (int)response.StatusCode >= 500 || type is "ThrottlingException" or "TooManyRequestsException" or "InternalServiceError" or "ExpiredTokenException" or "InvalidSignatureException" or "UnrecognizedClientException";
            var missing = type is "ResourceNotFoundException";
            return new AwsResponse([], ($"Secrets Manager {action}: {type}: {message}", transient && !missing));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AwsResponse([], ($"Secrets Manager at {_endpoint.Host} did not answer {action} within {_http.Timeout.TotalSeconds:0.#} s", true));
        }
        catch (HttpRequestException e)
        {
            return new AwsResponse([], ($"Secrets Manager at {_endpoint.Host} is unreachable: {e.Message}", true));
        }
    }

    private static (string Type, string Message) ErrorOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var type = root.TryGetProperty("__type", out var t) ? t.GetString() ?? "Error" : "Error";
            var message = root.TryGetProperty("message", out var m) || root.TryGetProperty("Message", out m) ? m.GetString() ?? "" : "";
            return (type[(type.LastIndexOf('#') + 1)..], message);
        }
        catch (JsonException)
        {
            return ("Error", "an answer that is not JSON");
        }
    }

    /// <summary>A Secrets Manager answer: the body (zeroed on dispose) or the error and whether it is transient.</summary>
    private static bool IsJson(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
            }

            return reader.BytesConsumed == body.Length && body.Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private sealed class AwsResponse(byte[] body, (string Message, bool Transient)? error, bool denied = false) : IDisposable
    {
        public byte[] Body { get; } = body;

        public (string Message, bool Transient)? Error { get; } = error;

        /// <summary>IAM refused the action (AccessDeniedException).</summary>
        public bool Denied { get; } = denied;

        public void Dispose() => CryptographicOperations.ZeroMemory(Body);
    }
}
