using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dso.Fakes;

/// <summary>
/// HashiCorp Vault's HTTP API as far as DSO and hvac use it: KV v2 under `secret/` (data, metadata,
/// versions, soft delete), KV v1 under `kv/`, tokens (lookup-self, renew-self), AppRole login,
/// response-wrapped secret ids (sys/wrapping/unwrap, single use), AWS IAM login (`auth/aws/login`:
/// the signed `sts:GetCallerIdentity` request is checked here as STS would check it, against the AWS
/// keys the test registers, with the `X-Vault-AWS-IAM-Server-ID` header when one is configured),
/// sys/health, namespaces (X-Vault-Namespace keeps separate stores) and Vault's `{"errors": […]}` shape.
/// </summary>
public sealed class FakeVault : FakeServer
{
    public const string RootToken = "hvs.fake-root-token-0123456789";
    private readonly ConcurrentDictionary<string, List<(JsonObject Data, DateTimeOffset Created, bool Deleted)>> _kv2 = new();
    private readonly ConcurrentDictionary<string, JsonObject> _kv1 = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();
    private readonly ConcurrentDictionary<string, string> _roles = new();
    private readonly ConcurrentDictionary<string, string> _wrapped = new();
    private readonly ConcurrentDictionary<string, (string SecretKey, string? SessionToken)> _awsKeys = new();
    private readonly ConcurrentDictionary<string, string> _iamRoles = new();
    private int _renewals;
    private int _logins;

    public FakeVault(bool https = false, string? directory = null)
        : base(https, directory)
    {
        _tokens[RootToken] = DateTimeOffset.MaxValue;
    }

    /// <summary>Lease of tokens AppRole logins issue.</summary>
    public TimeSpan TokenTtl { get; set; } = TimeSpan.FromHours(1);

    public int Renewals => Volatile.Read(ref _renewals);

    public int Logins => Volatile.Read(ref _logins);

    public void Put(string path, string value, string? ns = null) => PutFields(path, new JsonObject { ["value"] = value }, ns);

    public void PutFields(string path, JsonObject fields, string? ns = null)
    {
        var versions = _kv2.GetOrAdd(Key(ns, "secret", path), _ => []);
        lock (versions)
        {
            versions.Add((fields, DateTimeOffset.UtcNow, false));
        }
    }

    public void PutV1(string path, JsonObject fields) => _kv1[Key(null, "kv", path)] = fields;

    public void AddRole(string roleId, string secretId) => _roles[roleId] = secretId;

    /// <summary>An AWS key STS knows (its secret, and the session token that must come with it).</summary>
    public void AddAwsKey(string accessKey, string secretKey, string? sessionToken = null) => _awsKeys[accessKey] = (secretKey, sessionToken);

    /// <summary>A role of the AWS auth method, bound to the principal that owns <paramref name="accessKey"/>.</summary>
    public void AddIamRole(string role, string accessKey) => _iamRoles[role] = accessKey;

    /// <summary>The value Vault's AWS auth requires in `X-Vault-AWS-IAM-Server-ID` (iam_server_id_header_value), if any.</summary>
    public string? IamServerId { get; set; }

    /// <summary>A single-use wrapping token that unwraps to {"secret_id": …}.</summary>
    public string Wrap(string secretId)
    {
        var token = "hvs.wrap-" + Guid.NewGuid().ToString("N");
        _wrapped[token] = secretId;
        return token;
    }

    /// <summary>Revokes every token AppRole issued (the root token stays).</summary>
    public void RevokeIssued()
    {
        foreach (var token in _tokens.Keys.Where(t => t != RootToken))
        {
            _tokens.TryRemove(token, out _);
        }
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/v1/sys/health", () => Results.Json(new { initialized = true, @sealed = false, standby = false, version = "1.15.6" }));
        app.MapGet("/v1/auth/token/lookup-self", (HttpContext c) => Valid(c) is { } token
            ? Results.Json(new { data = new { id = token, ttl = 3600, policies = new[] { "default" } } })
            : Denied403());
        app.MapPost("/v1/auth/token/renew-self", (HttpContext c) =>
        {
            if (Valid(c) is not { } token)
            {
                return Denied403();
            }

            Interlocked.Increment(ref _renewals);
            if (token != RootToken)
            {
                _tokens[token] = DateTimeOffset.UtcNow + TokenTtl;
            }

            return Auth(token);
        });
        app.MapPost("/v1/auth/approle/login", async (HttpContext c) =>
        {
            var body = await JsonNode.ParseAsync(c.Request.Body);
            var role = body?["role_id"]?.GetValue<string>();
            var secret = body?["secret_id"]?.GetValue<string>();
            if (role is null || secret is null || !_roles.TryGetValue(role, out var expected) || expected != secret)
            {
                return Error(400, "invalid role or secret ID");
            }

            Interlocked.Increment(ref _logins);
            var token = "hvs.approle-" + Guid.NewGuid().ToString("N");
            _tokens[token] = DateTimeOffset.UtcNow + TokenTtl;
            return Auth(token);
        });
        app.MapPost("/v1/auth/aws/login", async Task<IResult> (HttpContext c) => IamLogin(await JsonNode.ParseAsync(c.Request.Body) as JsonObject));
        app.MapPost("/v1/sys/wrapping/unwrap", (HttpContext c) =>
            c.Request.Headers["X-Vault-Token"].ToString() is var token && _wrapped.TryRemove(token, out var secret)
                ? Results.Json(new { data = new { secret_id = secret, secret_id_accessor = Guid.NewGuid().ToString() } })
                : Error(400, "wrapping token is not valid or does not exist"));
        app.MapMethods("/v1/{**rest}", ["GET", "POST", "PUT", "DELETE"], async (HttpContext c, string rest) =>
        {
            if (Valid(c) is null)
            {
                return Denied403();
            }

            var ns = c.Request.Headers["X-Vault-Namespace"].FirstOrDefault();
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var mount = slash < 0 ? rest : rest[..slash];
            var remainder = slash < 0 ? string.Empty : rest[(slash + 1)..];
            return mount switch
            {
                "secret" => await Kv2Async(c, ns, remainder),
                "kv" => await Kv1Async(c, ns, remainder),
                _ => Error(404, $"no handler for route \"{rest}\". route entry not found."),
            };
        });
    }

    protected override Task WriteErrorAsync(HttpContext context, int status) =>
        Error(status, status switch
        {
            429 => "request path \"secret/data\": rate limit quota exceeded",
            503 => "Vault is sealed",
            403 => "permission denied",
            _ => "internal error",
        }).ExecuteAsync(context);

    /// <summary>
    /// Vault's `auth/aws/login` with the iam method: the four base64 fields describe a signed
    /// `GetCallerIdentity` POST to STS, which Vault forwards; here it is verified in place.
    /// </summary>
    private IResult IamLogin(JsonObject? body)
    {
        static string? Field(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        static string Decode(string? base64) => base64 is null ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        if (Field(body, "iam_http_request_method") != "POST")
        {
            return Error(400, "iam_http_request_method must be POST");
        }

        var url = Decode(Field(body, "iam_request_url"));
        var stsBody = Decode(Field(body, "iam_request_body"));
        if (!Uri.TryCreate(url, UriKind.Absolute, out var sts) || sts.Scheme != "https" || !sts.Host.StartsWith("sts.", StringComparison.Ordinal) || !sts.Host.EndsWith(".amazonaws.com", StringComparison.Ordinal)
            || stsBody != "Action=GetCallerIdentity&Version=2011-06-15")
        {
            return Error(400, "the request is not sts:GetCallerIdentity");
        }

        // Headers as a JSON object of name → [values] (hvac, Vault's CLI) or name → value.
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (JsonNode.Parse(Decode(Field(body, "iam_request_headers"))) is JsonObject sent)
        {
            foreach (var (name, value) in sent)
            {
                headers[name] = value is JsonArray list ? string.Join(",", list.Select(v => v!.GetValue<string>())) : value!.GetValue<string>();
            }
        }

        string Header(string name) => headers.GetValueOrDefault(name, "");
        var credential = Header("authorization").Split("Credential=", 2) is [_, var rest] ? rest.Split('/')[0] : "";
        if (!_awsKeys.TryGetValue(credential, out var key))
        {
            return Error(400, "error making upstream request: received error code 403 from STS: InvalidClientTokenId: The security token included in the request is invalid.");
        }

        var problem = SignedRequest.Check(Header, Encoding.UTF8.GetBytes(stsBody), sts.AbsolutePath, sts.Query.TrimStart('?'), credential, key.SecretKey, key.SessionToken, TimeSpan.FromMinutes(15), "sts");
        if (problem != SignatureProblem.None || (key.SessionToken is not null && Header("x-amz-security-token") != key.SessionToken))
        {
            return Error(400, $"error making upstream request: received error code 403 from STS: {(problem == SignatureProblem.Expired ? "SignatureExpired" : "SignatureDoesNotMatch")}");
        }

        if (IamServerId is { } serverId && (Header("x-vault-aws-iam-server-id") != serverId || !Header("authorization").Contains("x-vault-aws-iam-server-id", StringComparison.Ordinal)))
        {
            return Error(400, "expected X-Vault-AWS-IAM-Server-ID header value to be signed and to match the configured value");
        }

        var role = Field(body, "role") ?? "";
        if (!_iamRoles.TryGetValue(role, out var bound))
        {
            return Error(400, $"entry for role {role} not found");
        }

        if (bound != credential)
        {
            return Error(403, $"IAM Principal of {credential} does not belong to the role {role}");
        }

        Interlocked.Increment(ref _logins);
        var token = "hvs.aws-" + Guid.NewGuid().ToString("N");
        _tokens[token] = DateTimeOffset.UtcNow + TokenTtl;
        return Auth(token);
    }

    private static string Key(string? ns, string mount, string path) => $"{ns}|{mount}|{path.Trim('/')}";

    private static IResult Error(int status, string message) => Results.Json(new { errors = new[] { message } }, statusCode: status);

    private static IResult Denied403() => Error(403, "permission denied");

    private IResult Auth(string token) => Results.Json(new
    {
        auth = new { client_token = token, accessor = "acc", policies = new[] { "default" }, lease_duration = (long)TokenTtl.TotalSeconds, renewable = true },
    });

    private string? Valid(HttpContext context)
    {
        var token = context.Request.Headers["X-Vault-Token"].ToString();
        return _tokens.TryGetValue(token, out var until) && until > DateTimeOffset.UtcNow ? token : null;
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private async Task<IResult> Kv2Async(HttpContext c, string? ns, string remainder)
    {
        var parts = remainder.Split('/', 2);
        var path = parts.Length > 1 ? parts[1] : string.Empty;
        var key = Key(ns, "secret", path);
        switch (parts[0], c.Request.Method)
        {
            case ("data", "GET"):
                {
                    if (!_kv2.TryGetValue(key, out var versions))
                    {
                        return Results.Json(new { errors = Array.Empty<string>() }, statusCode: 404);
                    }

                    lock (versions)
                    {
                        var number = c.Request.Query.TryGetValue("version", out var v) && int.TryParse(v, out var n) && n > 0 ? n : versions.Count;
                        if (number > versions.Count)
                        {
                            return Results.Json(new { errors = Array.Empty<string>() }, statusCode: 404);
                        }

                        var (data, created, deleted) = versions[number - 1];
                        var metadata = new JsonObject { ["created_time"] = Time(created), ["custom_metadata"] = null, ["deletion_time"] = deleted ? Time(created) : "", ["destroyed"] = false, ["version"] = number };
                        return Results.Json(new JsonObject
                        {
                            ["request_id"] = Guid.NewGuid().ToString(), ["lease_id"] = "", ["renewable"] = false, ["lease_duration"] = 0,
                            ["data"] = new JsonObject { ["data"] = deleted ? null : data.DeepClone(), ["metadata"] = metadata },
                            ["wrap_info"] = null, ["warnings"] = null, ["auth"] = null,
                        }, statusCode: deleted ? 404 : 200);
                    }
                }

            case ("data", "POST" or "PUT"):
                {
                    var body = await JsonNode.ParseAsync(c.Request.Body);
                    if (body?["data"] is not JsonObject fields)
                    {
                        return Error(400, "no data provided");
                    }

                    PutFields(path, (JsonObject)fields.DeepClone(), ns);
                    var versions = _kv2[key];
                    lock (versions)
                    {
                        return Results.Json(new { data = new { created_time = Time(DateTimeOffset.UtcNow), custom_metadata = (object?)null, deletion_time = "", destroyed = false, version = versions.Count } });
                    }
                }

            case ("data", "DELETE"):
                {
                    if (_kv2.TryGetValue(key, out var versions))
                    {
                        lock (versions)
                        {
                            versions[^1] = versions[^1] with { Deleted = true };
                        }
                    }

                    return Results.NoContent();
                }

            case ("metadata", "GET"):
                {
                    if (!_kv2.TryGetValue(key, out var versions))
                    {
                        return Results.Json(new { errors = Array.Empty<string>() }, statusCode: 404);
                    }

                    lock (versions)
                    {
                        var all = new JsonObject();
                        for (var i = 0; i < versions.Count; i++)
                        {
                            all[(i + 1).ToString(CultureInfo.InvariantCulture)] = new JsonObject { ["created_time"] = Time(versions[i].Created), ["deletion_time"] = versions[i].Deleted ? Time(versions[i].Created) : "", ["destroyed"] = false };
                        }

                        return Results.Json(new JsonObject
                        {
                            ["data"] = new JsonObject
                            {
                                ["cas_required"] = false, ["created_time"] = Time(versions[0].Created), ["current_version"] = versions.Count,
                                ["delete_version_after"] = "0s", ["max_versions"] = 0, ["oldest_version"] = 0,
                                ["updated_time"] = Time(versions[^1].Created), ["custom_metadata"] = null, ["versions"] = all,
                            },
                        });
                    }
                }

            default:
                return Error(405, "unsupported operation");
        }
    }

    private async Task<IResult> Kv1Async(HttpContext c, string? ns, string path)
    {
        var key = Key(ns, "kv", path);
        switch (c.Request.Method)
        {
            case "GET":
                return _kv1.TryGetValue(key, out var data)
                    ? Results.Json(new JsonObject { ["request_id"] = Guid.NewGuid().ToString(), ["lease_id"] = "", ["renewable"] = false, ["lease_duration"] = 2764800, ["data"] = data.DeepClone(), ["wrap_info"] = null, ["warnings"] = null, ["auth"] = null })
                    : Results.Json(new { errors = Array.Empty<string>() }, statusCode: 404);
            case "POST" or "PUT":
                var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject ?? [];
                _kv1[key] = body;
                return Results.NoContent();
            default:
                return Error(405, "unsupported operation");
        }
    }
}
