using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dso.Plugins;
using Dso.Providers.Plugins;

namespace Dso.Providers.HashiCorp;

/// <summary>
/// HashiCorp Vault over its HTTP API (no client library is served): KV v2 (`GET
/// /v1/MOUNT/data/PATH`, versions from `/v1/MOUNT/metadata/PATH`) or KV v1, token or AppRole
/// authentication (secret id from a file, optionally response-wrapped and unwrapped once), token
/// renewal at two thirds of its lease and a new login when Vault says the token is no longer
/// good, Enterprise namespaces, and TLS trusting only a CA file when one is given.
/// A secret holding one field named `value` is that field; otherwise the fields' JSON object (pick
/// one with `#field`). Paths may also be written as Vault's API shows them (<see cref="Candidates"/>).
/// </summary>
internal sealed class VaultBackend : IPluginBackend
{
    private const int MaxBody = 512 * 1024;
    private readonly HttpClient _http;
    private readonly string _mount;
    private readonly bool _kv2;
    private readonly BackendConfig _config;
    private readonly Func<string, string?> _variable;
    private readonly TimeProvider _time;
    private string? _token;
    private string? _unwrappedSecretId;
    private DateTimeOffset? _renewAt;

    public VaultBackend(BackendConfig config, Func<string, string?> variable, TimeProvider time)
    {
        _config = config;
        _variable = variable;
        _time = time;
        var address = config.Endpoint ?? config.AuthParams.GetValueOrDefault("address")
            ?? throw new BackendException(PluginErrorCodes.Denied, "no Vault address: set endpoint: https://vault.example.com:8200");
        _mount = config.Options.GetValueOrDefault("mount", "secret").Trim('/');
        _kv2 = config.Options.GetValueOrDefault("kv_version", "2") == "2";
        _http = new HttpClient(BackendHttp.Handler(config.Options.GetValueOrDefault("ca_file"))) { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = config.Timeout * 0.8 };
        if (config.Options.GetValueOrDefault("namespace") is { } ns)
        {
            _http.DefaultRequestHeaders.Add("X-Vault-Namespace", ns);
        }

    }

    /// <summary>Methods that log in for a token, and log in again when Vault stops honouring it.</summary>
    private bool LogsIn => _config.AuthMethod is "approle" or "iam_role";

    public bool Versions => _kv2;

    public int MaxBatch => 50;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new List<ResolvedSecret>(requests.Count);
        foreach (var request in requests)
        {
            if (!_kv2 && request.Version is not null)
            {
                answers.Add(ResolvedSecret.Missing($"KV v1 mount {_mount} keeps no versions (@{request.Version})"));
                continue;
            }

            ResolvedSecret? answer = null;
            foreach (var (secret, field) in Candidates(request.Path))
            {
                answer = await ReadSecretAsync(secret, field, request.Version, cancellationToken);
                if (answer.Value is not null || answer.Transient)
                {
                    break;
                }
            }

            answers.Add(answer!);
        }

        return answers;
    }

    /// <summary>
    /// Where a path is read: itself; or, written as Vault's API and UI show it — `MOUNT/data/PATH`
    /// (KV v2) or `MOUNT/PATH` (KV v1), as the original project's README maps variables — PATH's
    /// parent with its last segment as the field (the seed's `secret/data/prod/database/password`
    /// is the field `password` of `prod/database`), then PATH itself.
    /// </summary>
    private IEnumerable<(string Secret, string? Field)> Candidates(string path)
    {
        var prefix = _kv2 ? $"{_mount}/data/" : $"{_mount}/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || path.Length == prefix.Length)
        {
            yield return (path, null);
            yield break;
        }

        var rest = path[prefix.Length..];
        if (rest.LastIndexOf('/') is var slash and > 0)
        {
            yield return (rest[..slash], rest[(slash + 1)..]);
        }

        yield return (rest, null);
    }

    private Task<ResolvedSecret> ReadSecretAsync(string path, string? field, string? version, CancellationToken cancellationToken)
    {
        var url = _kv2
            ? $"v1/{_mount}/data/{Escape(path)}" + (version is null ? "" : $"?version={Uri.EscapeDataString(version)}")
            : $"v1/{_mount}/{Escape(path)}";
        return ReadAsync(url, path, body =>
        {
            var data = body.GetProperty("data");
            if (_kv2)
            {
                if (data.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("deletion_time", out var deleted) && deleted.ValueKind == JsonValueKind.String && deleted.GetString()!.Length > 0)
                {
                    return ResolvedSecret.Missing($"{path} is deleted in Vault");
                }

                data = data.GetProperty("data");
            }

            if (data.ValueKind != JsonValueKind.Object)
            {
                return ResolvedSecret.Missing($"{path} has no data in Vault");
            }

            if (field is not null)
            {
                return data.TryGetProperty(field, out var picked)
                    ? ResolvedSecret.Found(PluginAnswers.ValueOf(picked))
                    : ResolvedSecret.Missing($"{path} in Vault has no field {field}");
            }

            var fields = data.EnumerateObject().ToList();
            return ResolvedSecret.Found(fields is [{ Name: "value" } only] ? PluginAnswers.ValueOf(only.Value) : PluginAnswers.ValueOf(data));
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var versions = new List<SecretVersion>(requests.Count);
        foreach (var request in requests)
        {
            SecretVersion? answer = null;
            foreach (var (secret, _) in Candidates(request.Path))
            {
                answer = await ReadAsync($"v1/{_mount}/metadata/{Escape(secret)}", secret, body =>
                {
                    var data = body.GetProperty("data");
                    var current = data.GetProperty("current_version").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
                    DateTimeOffset? at = data.TryGetProperty("updated_time", out var u) && u.ValueKind == JsonValueKind.String && u.TryGetDateTimeOffset(out var t) ? t : null;
                    return new SecretVersion(current, at);
                }, error => new SecretVersion(null, null, error.Message, error.Transient), cancellationToken);
                if (answer.Version is not null || answer.Transient)
                {
                    break;
                }
            }

            versions.Add(answer!);
        }

        return versions;
    }

    public async Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync("v1/sys/health?standbyok=true", cancellationToken);
            return response.IsSuccessStatusCode ? (true, $"Vault at {_http.BaseAddress} answers") : (false, $"Vault at {_http.BaseAddress} answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, $"Vault at {_http.BaseAddress} is unreachable: {e.Message}");
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private Task<ResolvedSecret> ReadAsync(string url, string path, Func<JsonElement, ResolvedSecret> read, CancellationToken cancellationToken) =>
        ReadAsync(url, path, read, error => error.Transient ? ResolvedSecret.Failed(error.Message) : ResolvedSecret.Missing(error.Message), cancellationToken);

    /// <summary>One GET with the token (logging in first, renewing when due, once more after a 403 with AppRole).</summary>
    private async Task<T> ReadAsync<T>(string url, string path, Func<JsonElement, T> read, Func<(string Message, bool Transient), T> fail, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            string token;
            try
            {
                token = await TokenAsync(cancellationToken);
            }
            catch (BackendException e)
            {
                return fail((e.Message, true));
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("X-Vault-Token", token);
            VaultResponse response;
            try
            {
                response = await SendAsync(request, cancellationToken);
            }
            catch (BackendException e)
            {
                return fail((e.Message, true));
            }

            using (response)
            {
                switch (response.Status)
                {
                    case HttpStatusCode.OK:
                        try
                        {
                            using var document = JsonDocument.Parse(response.Body);
                            return read(document.RootElement);
                        }
                        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                        {
                            return fail(($"Vault sent an answer for {path} that is not the KV API's", true));
                        }

                    case HttpStatusCode.NotFound:
                        return fail(($"{path} not found in Vault mount {_mount}", false));
                    case HttpStatusCode.Forbidden when attempt == 0 && LogsIn:
                        _token = null;
                        continue;
                    case HttpStatusCode.Forbidden:
                        return fail(($"Vault denied access to {path} ({response.Errors}); check the token's policy", true));
                    default:
                        return fail(($"Vault answered {(int)response.Status} for {path} ({response.Errors})", true));
                }
            }
        }
    }

    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (_token is not null && _renewAt is { } due && _time.GetUtcNow() >= due)
        {
            using var renew = new HttpRequestMessage(HttpMethod.Post, "v1/auth/token/renew-self") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            renew.Headers.Add("X-Vault-Token", _token);
            using var renewed = await SendAsync(renew, cancellationToken);
            if (renewed.Status == HttpStatusCode.OK && Lease(renewed.Body) is { } lease)
            {
                _renewAt = lease.Renewable && lease.Seconds > 0 ? _time.GetUtcNow() + TimeSpan.FromSeconds(lease.Seconds * 2 / 3.0) : null;
            }
            else if (LogsIn)
            {
                _token = null;
            }
        }

        if (_token is not null)
        {
            return _token;
        }

        switch (_config.AuthMethod ?? "token")
        {
            case "token":
                _token = _config.AuthParams.GetValueOrDefault("token") is { Length: > 0 } t ? t
                    : _config.AuthParams.GetValueOrDefault("token_file") is { } file ? ReadFile(file, "token_file")
                    : _variable("VAULT_TOKEN") is { Length: > 0 } env ? env
                    : throw new BackendException(PluginErrorCodes.Denied, "no Vault token: set auth.params.token (\"${VAULT_TOKEN}\") or auth.params.token_file");
                return _token;
            case "approle":
                return await LoginAsync("AppRole", _config.AuthParams.GetValueOrDefault("mount", "approle"), await AppRoleLoginAsync(cancellationToken), cancellationToken);
            case "iam_role":
                return await LoginAsync("AWS IAM", _config.AuthParams.GetValueOrDefault("mount", "aws"), await VaultAwsLogin.BodyAsync(_config.AuthParams, _time), cancellationToken);
            default:
                throw new BackendException(PluginErrorCodes.Denied, $"auth method {_config.AuthMethod} is not supported for Vault (token, approle, iam_role)");
        }
    }

    /// <summary>AppRole's login body: the role id and the secret id (unwrapped once when it is a wrapping token).</summary>
    private async Task<byte[]> AppRoleLoginAsync(CancellationToken cancellationToken)
    {
        var p = _config.AuthParams;
        var roleId = p.GetValueOrDefault("role_id") ?? throw new BackendException(PluginErrorCodes.Denied, "approle needs auth.params.role_id");
        var secretId = _unwrappedSecretId
            ?? (p.GetValueOrDefault("secret_id_file") is { } file ? ReadFile(file, "secret_id_file")
            : p.GetValueOrDefault("secret_id") ?? throw new BackendException(PluginErrorCodes.Denied, "approle needs auth.params.secret_id_file (or secret_id)"));
        if (_unwrappedSecretId is null && p.GetValueOrDefault("wrapped") == "true")
        {
            // The file holds a response-wrapping token; unwrapping it spends it, so keep what it held.
            using var unwrap = new HttpRequestMessage(HttpMethod.Post, "v1/sys/wrapping/unwrap") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            unwrap.Headers.Add("X-Vault-Token", secretId);
            using var unwrapped = await SendAsync(unwrap, cancellationToken);
            if (unwrapped.Status != HttpStatusCode.OK)
            {
                throw new BackendException(PluginErrorCodes.Denied, $"Vault refused to unwrap the secret id ({unwrapped.Errors}); a wrapping token works once: issue a new one");
            }

            using var doc = JsonDocument.Parse(unwrapped.Body);
            secretId = doc.RootElement.GetProperty("data").GetProperty("secret_id").GetString()!;
            _unwrappedSecretId = secretId;
        }

        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["role_id"] = roleId, ["secret_id"] = secretId }, ProviderJson.Default.DictionaryStringString);
    }

    /// <summary>POSTs a login body to `auth/MOUNT/login` (zeroing it after) and keeps the token and its renewal time.</summary>
    private async Task<string> LoginAsync(string method, string mount, byte[] body, CancellationToken cancellationToken)
    {
        using var login = new HttpRequestMessage(HttpMethod.Post, $"v1/auth/{mount}/login") { Content = new ByteArrayContent(body) };
        using var response = await SendAsync(login, cancellationToken);
        CryptographicOperations.ZeroMemory(body);
        if (response.Status != HttpStatusCode.OK)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"Vault {method} login failed ({(int)response.Status}: {response.Errors})");
        }

        using var document = JsonDocument.Parse(response.Body);
        var auth = document.RootElement.GetProperty("auth");
        _token = auth.GetProperty("client_token").GetString();
        var seconds = auth.TryGetProperty("lease_duration", out var l) ? l.GetInt64() : 0;
        var renewable = auth.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True;
        _renewAt = renewable && seconds > 0 ? _time.GetUtcNow() + TimeSpan.FromSeconds(seconds * 2 / 3.0) : null;
        return _token!;
    }

    private static (long Seconds, bool Renewable)? Lease(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var auth = document.RootElement.GetProperty("auth");
            return (auth.GetProperty("lease_duration").GetInt64(), auth.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string ReadFile(string path, string key)
    {
        try
        {
            return System.IO.File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"cannot read auth.params.{key} {path}: {e.Message}");
        }
    }

    private async Task<VaultResponse> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var bytes = await BackendHttp.ReadCappedAsync(response, MaxBody, cancellationToken)
                ?? throw new BackendException(PluginErrorCodes.Unavailable, $"Vault's answer is over {MaxBody / 1024} KiB");
            return new VaultResponse(response.StatusCode, bytes);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BackendException(PluginErrorCodes.Unavailable, $"Vault at {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw new BackendException(PluginErrorCodes.Unavailable, $"Vault at {_http.BaseAddress} is unreachable: {e.Message}");
        }
    }

    /// <summary>A Vault answer; the body is zeroed on dispose.</summary>
    private sealed class VaultResponse(HttpStatusCode status, byte[] body) : IDisposable
    {
        public HttpStatusCode Status { get; } = status;

        public byte[] Body { get; } = body;

        /// <summary>Vault's `errors` list (never values), for messages.</summary>
        public string Errors
        {
            get
            {
                try
                {
                    using var document = JsonDocument.Parse(Body);
                    return document.RootElement.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Array
                        ? string.Join("; ", e.EnumerateArray().Select(x => x.ToString())) is { Length: > 0 } text ? text : "no detail"
                        : "no detail";
                }
                catch (JsonException)
                {
                    return "no detail";
                }
            }
        }

        public void Dispose() => CryptographicOperations.ZeroMemory(Body);
    }
}
