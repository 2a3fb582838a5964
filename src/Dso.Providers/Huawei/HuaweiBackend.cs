using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Dso.Plugins;
using Dso.Providers.Plugins;
using Dso.Secrets;

namespace Dso.Providers.Huawei;

/// <summary>
/// Huawei Cloud Cloud Secret Management Service (CSMS) over its REST API, signed with AK/SK
/// (`SDK-HMAC-SHA256`, by hand; no SDK for .NET is served): `GET
/// /v1/{project}/secrets/{name}/versions/latest` (or a pinned version id) for values, `GET
/// …/stages/SYSCURRENT` for the cheap check (the current version's id, no value read).
/// Credentials: `aksk` (auth.params access_key/secret_key, else HUAWEICLOUD_SDK_AK/SK, with an
/// optional security token) or `ecs_agency` (temporary keys from the ECS metadata service, renewed
/// before they expire: no long-lived key on the host).
/// </summary>
internal sealed class HuaweiBackend : IPluginBackend
{
    private const int MaxBody = 512 * 1024;
    private const string MetadataEndpoint = "http://169.254.169.254/openstack/latest/securitykey";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _project;
    private readonly TimeProvider _time;
    private readonly Uri? _metadata;
    private Keys? _keys;

    public HuaweiBackend(BackendConfig config, Func<string, string?> variable, TimeProvider time)
    {
        _time = time;
        _project = config.Options.GetValueOrDefault("project_id") ?? variable("HUAWEICLOUD_SDK_PROJECT_ID")
            ?? throw new BackendException(PluginErrorCodes.Denied, "no project id: set options.project_id (the project of the region, from 'My Credentials')");
        var endpoint = config.Endpoint ?? (config.Region is { } region ? $"https://kms.{region}.myhuaweicloud.com" : null)
            ?? throw new BackendException(PluginErrorCodes.Denied, "no region: set region: (for example cn-north-4) or endpoint:");
        _endpoint = new Uri(endpoint.TrimEnd('/') + "/");
        _http = new HttpClient(BackendHttp.Handler(config.Options.GetValueOrDefault("ca_file"))) { Timeout = config.Timeout * 0.8 };
        var p = config.AuthParams;
        switch (config.AuthMethod ?? "aksk")
        {
            case "ecs_agency":
                _metadata = new Uri(p.GetValueOrDefault("metadata_endpoint") ?? MetadataEndpoint);
                break;
            default:
                var access = p.GetValueOrDefault("access_key") ?? variable("HUAWEICLOUD_SDK_AK");
                var secret = p.GetValueOrDefault("secret_key") ?? variable("HUAWEICLOUD_SDK_SK");
                if (string.IsNullOrEmpty(access) || string.IsNullOrEmpty(secret))
                {
                    throw new BackendException(PluginErrorCodes.Denied, "no AK/SK: set auth.params.access_key and secret_key (use ${ENV}), or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK");
                }

                _keys = new Keys(access, secret, p.GetValueOrDefault("security_token") ?? variable("HUAWEICLOUD_SDK_SECURITY_TOKEN"), null);
                break;
        }
    }

    public bool Versions => true;

    public int MaxBatch => 50;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new List<ResolvedSecret>(requests.Count);
        foreach (var request in requests)
        {
            if (BadName(request) is { } bad)
            {
                answers.Add(ResolvedSecret.Missing(bad));
                continue;
            }

            using var response = await CallAsync("GET", $"secrets/{request.Path}/versions/{request.Version ?? "latest"}", null, cancellationToken);
            if (response.Error is { } error)
            {
                answers.Add(error.Transient ? ResolvedSecret.Failed(error.Message) : ResolvedSecret.Missing(error.Message));
                continue;
            }

            using var document = JsonDocument.Parse(response.Body);
            var version = document.RootElement.TryGetProperty("version", out var v) ? v : default;
            answers.Add(version.ValueKind != JsonValueKind.Object ? ResolvedSecret.Failed($"CSMS sent an answer without a version for {request.Path}")
                : version.TryGetProperty("secret_string", out var text) && text.ValueKind == JsonValueKind.String ? ResolvedSecret.Found(PluginAnswers.CopyString(text))
                : version.TryGetProperty("secret_binary", out var binary) && binary.ValueKind == JsonValueKind.String && binary.TryGetBytesFromBase64(out var bytes) ? Found(bytes)
                : ResolvedSecret.Missing($"{request.Path} has no value in CSMS"));
        }

        return answers;
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var versions = new List<SecretVersion>(requests.Count);
        foreach (var request in requests)
        {
            if (BadName(request) is { } bad)
            {
                versions.Add(new SecretVersion(null, null, bad));
                continue;
            }

            using var response = await CallAsync("GET", $"secrets/{request.Path}/stages/SYSCURRENT", null, cancellationToken);
            if (response.Error is { } error)
            {
                versions.Add(new SecretVersion(null, null, error.Message, error.Transient));
                continue;
            }

            using var document = JsonDocument.Parse(response.Body);
            var stage = document.RootElement.TryGetProperty("stage", out var s) ? s : default;
            var id = stage.ValueKind == JsonValueKind.Object && stage.TryGetProperty("version_id", out var v) ? v.GetString() : null;
            DateTimeOffset? changed = stage.ValueKind == JsonValueKind.Object && stage.TryGetProperty("update_time", out var t) && t.TryGetInt64(out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : null;
            versions.Add(id is null ? new SecretVersion(null, null, $"{request.Path} has no SYSCURRENT version in CSMS") : new SecretVersion(id, changed));
        }

        return versions;
    }

    public async Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken)
    {
        using var response = await CallAsync("GET", "secrets", [new("limit", "1")], cancellationToken);
        return response.Error is { } error ? (false, error.Message) : (true, $"CSMS at {_endpoint.Host} answers");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>CSMS names (and version ids) are 1–64 letters, digits, `_` and `-`.</summary>
    private static string? BadName(SecretRequest request) =>
        Valid(request.Path) && (request.Version is null || Valid(request.Version)) ? null
        : $"'{request.Path}{(request.Version is null ? "" : "@" + request.Version)}' is not a CSMS secret name (1 to 64 letters, digits, _ and -)";

    private static bool Valid(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static ResolvedSecret Found(byte[] bytes)
    {
        var value = SecretValue.FromBytes(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return ResolvedSecret.Found(value);
    }

    private async Task<CsmsResponse> CallAsync(string method, string relative, List<KeyValuePair<string, string>>? query, CancellationToken cancellationToken)
    {
        Keys keys;
        try
        {
            keys = await KeysAsync(cancellationToken);
        }
        catch (BackendException e)
        {
            return CsmsResponse.Failed(e.Message, true);
        }

        var path = $"{_endpoint.AbsolutePath}v1/{_project}/{relative}";
        var uri = new UriBuilder(_endpoint) { Path = path, Query = string.Join('&', (query ?? []).Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}")) }.Uri;
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = _endpoint.IsDefaultPort ? _endpoint.Host : $"{_endpoint.Host}:{_endpoint.Port}",
            ["x-sdk-date"] = SdkHmac.Date(_time.GetUtcNow()),
            ["x-project-id"] = _project,
        };
        if (keys.Token is { } token)
        {
            headers["x-security-token"] = token;
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        foreach (var (name, value) in headers.Where(h => h.Key != "host"))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.Host = headers["host"];
        request.Headers.TryAddWithoutValidation("Authorization", SdkHmac.Authorization(keys.Access, keys.Secret, method, path, query ?? [], headers, []));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var bytes = await BackendHttp.ReadCappedAsync(response, MaxBody, cancellationToken);
            if (bytes is null)
            {
                return CsmsResponse.Failed($"CSMS's answer is over {MaxBody / 1024} KiB", true);
            }

            if (response.IsSuccessStatusCode)
            {
                return new CsmsResponse(bytes, null);
            }

            var (code, message) = ErrorOf(bytes);
            CryptographicOperations.ZeroMemory(bytes);
            var status = (int)response.StatusCode;
            var missing = status == 404 || code is "CSMS.0005" or "CSMS.0106";
            var name = relative.Split('/') is [_, var secret, ..] ? secret : relative;
            return missing
                ? CsmsResponse.Failed($"{name} not found in CSMS ({code})", false)
                : CsmsResponse.Failed($"CSMS answered {status} for {name}: {code}: {message}", true);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return CsmsResponse.Failed($"CSMS at {_endpoint.Host} did not answer within {_http.Timeout.TotalSeconds:0.#} s", true);
        }
        catch (HttpRequestException e)
        {
            return CsmsResponse.Failed($"CSMS at {_endpoint.Host} is unreachable: {e.Message}", true);
        }
    }

    /// <summary>The keys to sign with: the configured ones, or the ECS agency's temporary ones, fetched again 5 minutes before they expire.</summary>
    private async Task<Keys> KeysAsync(CancellationToken cancellationToken)
    {
        if (_keys is { } keys && (keys.Expires is null || keys.Expires - TimeSpan.FromMinutes(5) > _time.GetUtcNow()))
        {
            return keys;
        }

        try
        {
            using var response = await _http.GetAsync(_metadata, cancellationToken);
            var body = await BackendHttp.ReadCappedAsync(response, 64 * 1024, cancellationToken);
            if (!response.IsSuccessStatusCode || body is null)
            {
                throw new BackendException(PluginErrorCodes.Unavailable, $"the ECS metadata service at {_metadata!.Host} answered {(int)response.StatusCode} for the agency's keys (is an agency bound to this server?)");
            }

            try
            {
                using var document = JsonDocument.Parse(body);
                var credential = document.RootElement.GetProperty("credential");
                _keys = new Keys(
                    credential.GetProperty("access").GetString()!,
                    credential.GetProperty("secret").GetString()!,
                    credential.GetProperty("securitytoken").GetString(),
                    DateTimeOffset.Parse(credential.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
                return _keys;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(body);
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new BackendException(PluginErrorCodes.Unavailable, $"no keys from the ECS metadata service at {_metadata!.Host}: {e.Message}");
        }
    }

    private static (string Code, string Message) ErrorOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement.TryGetProperty("error", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : document.RootElement;
            return (
                root.TryGetProperty("error_code", out var c) ? c.GetString() ?? "error" : "error",
                root.TryGetProperty("error_msg", out var m) ? m.GetString() ?? "" : "");
        }
        catch (JsonException)
        {
            return ("error", "an answer that is not JSON");
        }
    }

    private sealed record Keys(string Access, string Secret, string? Token, DateTimeOffset? Expires);

    /// <summary>A CSMS answer: the body (zeroed on dispose) or the error and whether it is transient.</summary>
    private sealed class CsmsResponse(byte[] body, (string Message, bool Transient)? error) : IDisposable
    {
        public byte[] Body { get; } = body;

        public (string Message, bool Transient)? Error { get; } = error;

        public static CsmsResponse Failed(string message, bool transient) => new([], (message, transient));

        public void Dispose() => CryptographicOperations.ZeroMemory(Body);
    }
}
