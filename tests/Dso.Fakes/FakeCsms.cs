using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dso.Providers.Huawei;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dso.Fakes;

/// <summary>
/// Huawei Cloud CSMS's REST API (`/v1/{project_id}/secrets…`): create a secret, add a version, show
/// a version (`latest` or an id) with its value, show the `SYSCURRENT` stage, list versions, list
/// secrets; CSMS's error shape (`{"error_code": "CSMS.…", "error_msg": …}`) and the API gateway's
/// for refused signatures (`APIGW.0301`) and throttling (`APIGW.0308`). Every request's
/// `SDK-HMAC-SHA256` signature is verified. It also serves the ECS metadata service's
/// `/openstack/latest/securitykey` (temporary keys of the server's agency).
/// </summary>
public sealed class FakeCsms : FakeServer
{
    public const string AccessKey = "HPUAFAKEFAKEFAKE0001";
    public const string SecretKey = "fakeHuaweiSecretKeyForTests000000000000";
    public const string Project = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    private readonly ConcurrentDictionary<string, List<(string Id, string Value, long Created)>> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Secret, string Token, DateTimeOffset Expires)> _temporary = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public FakeCsms()
        : base(https: false, directory: null)
    {
    }

    /// <summary>How long the agency's temporary keys are good for.</summary>
    public TimeSpan AgencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    public Uri MetadataEndpoint => new(Address, "openstack/latest/securitykey");

    /// <summary>Calls served, by operation (show-version, show-stage, list-versions, list, create, add-version, securitykey).</summary>
    public int Calls(string operation) => _calls.GetValueOrDefault(operation);

    /// <summary>Adds a version (creating the secret); returns its id (v1, v2, …).</summary>
    public string Put(string name, string value)
    {
        var versions = _secrets.GetOrAdd(name, _ => []);
        lock (versions)
        {
            var id = $"v{versions.Count + 1}";
            versions.Add((id, value, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            return id;
        }
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/openstack/latest/securitykey", () =>
        {
            Count("securitykey");
            var access = "HST" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
            var expires = DateTimeOffset.UtcNow + AgencyKeyLifetime;
            _temporary[access] = (Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)), "fake-security-token-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), expires);
            var issued = _temporary[access];
            return Results.Json(new JsonObject
            {
                ["credential"] = new JsonObject
                {
                    ["access"] = access, ["secret"] = issued.Secret, ["securitytoken"] = issued.Token,
                    ["expires_at"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                },
            });
        });
        var api = app.MapGroup("/v1/{project}");
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.Request.EnableBuffering();
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            http.Request.Body.Position = 0;
            if (Verify(http.Request, buffer.ToArray()) is { } refused)
            {
                return refused;
            }

            return http.Request.RouteValues["project"] as string != Project
                ? Error(400, "CSMS.0002", "The value of parameter project_id is invalid.")
                : await next(context);
        });
        api.MapPost("/secrets", async (HttpContext c) =>
        {
            Count("create");
            var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject;
            var name = body?["name"]?.GetValue<string>() ?? "";
            if (_secrets.ContainsKey(name))
            {
                return Error(400, "CSMS.0201", $"The secret {name} already exists.");
            }

            var id = Put(name, body?["secret_string"]?.GetValue<string>() ?? "");
            return Results.Json(new JsonObject { ["secret"] = new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["name"] = name, ["state"] = "ENABLED", ["create_time"] = Created(name, id) } });
        });
        api.MapPost("/secrets/{name}/versions", async (HttpContext c, string name) =>
        {
            Count("add-version");
            if (!_secrets.ContainsKey(name))
            {
                return NotFound();
            }

            var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject;
            var id = Put(name, body?["secret_string"]?.GetValue<string>() ?? "");
            return Results.Json(new JsonObject { ["version_metadata"] = Metadata(name, id) });
        });
        api.MapGet("/secrets/{name}/versions/{version}", (string name, string version) =>
        {
            Count("show-version");
            if (!_secrets.TryGetValue(name, out var versions))
            {
                return NotFound();
            }

            (string Id, string Value, long Created)? found;
            lock (versions)
            {
                found = version == "latest" ? versions[^1] : versions.FirstOrDefault(v => v.Id == version) is { Id: not null } v ? v : null;
            }

            return found is not { } hit ? NotFound() : Results.Json(new JsonObject { ["version"] = new JsonObject { ["version_metadata"] = Metadata(name, hit.Id), ["secret_string"] = hit.Value } });
        });
        api.MapGet("/secrets/{name}/stages/{stage}", (string name, string stage) =>
        {
            Count("show-stage");
            if (!_secrets.TryGetValue(name, out var versions) || stage != "SYSCURRENT")
            {
                return NotFound();
            }

            lock (versions)
            {
                return Results.Json(new JsonObject { ["stage"] = new JsonObject { ["name"] = stage, ["secret_name"] = name, ["version_id"] = versions[^1].Id, ["update_time"] = versions[^1].Created } });
            }
        });
        api.MapGet("/secrets/{name}/versions", (string name) =>
        {
            Count("list-versions");
            if (!_secrets.TryGetValue(name, out var versions))
            {
                return NotFound();
            }

            List<string> ids;
            lock (versions)
            {
                ids = [.. versions.Select(v => v.Id)];
            }

            return Results.Json(new JsonObject
            {
                ["version_metadatas"] = new JsonArray([.. ids.Select(id => (JsonNode)Metadata(name, id))]),
                ["page_info"] = new JsonObject { ["next_marker"] = null, ["current_count"] = ids.Count },
            });
        });
        api.MapGet("/secrets", (HttpContext c) =>
        {
            Count("list");
            var limit = int.TryParse(c.Request.Query["limit"], out var l) ? l : 50;
            var names = _secrets.Keys.Order(StringComparer.Ordinal).Take(limit).ToList();
            return Results.Json(new JsonObject
            {
                ["secrets"] = new JsonArray([.. names.Select(n => (JsonNode)new JsonObject { ["name"] = n, ["state"] = "ENABLED" })]),
                ["page_info"] = new JsonObject { ["next_marker"] = null, ["current_count"] = names.Count },
            });
        });
    }

    protected override Task WriteErrorAsync(HttpContext context, int status) =>
        (status switch
        {
            429 => Error(429, "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute"),
            401 => Error(401, "APIGW.0301", "Incorrect IAM authentication information: the security token has expired"),
            403 => Error(403, "CSMS.0401", "Insufficient permissions for this operation (csms:secretVersion:get)."),
            _ => Error(status, "CSMS.0001", "Internal service error."),
        }).ExecuteAsync(context);

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error_code"] = code, ["error_msg"] = message }, statusCode: status);

    private static IResult NotFound() => Error(400, "CSMS.0005", "The resource does not exist.");

    private void Count(string operation) => _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);

    private long Created(string name, string id)
    {
        var versions = _secrets[name];
        lock (versions)
        {
            return versions.First(v => v.Id == id).Created;
        }
    }

    private JsonObject Metadata(string name, string id)
    {
        var versions = _secrets[name];
        lock (versions)
        {
            var v = versions.First(x => x.Id == id);
            return new JsonObject
            {
                ["id"] = v.Id, ["create_time"] = v.Created, ["secret_name"] = name, ["kms_key_id"] = "00000000-0000-0000-0000-00000000kms0",
                ["version_stages"] = versions[^1].Id == id ? new JsonArray("SYSCURRENT") : versions.Count > 1 && versions[^2].Id == id ? new JsonArray("SYSPREVIOUS") : new JsonArray(),
            };
        }
    }

    /// <summary>The gateway's AK/SK check: a known (or unexpired temporary) key, a fresh X-Sdk-Date, the signature over the headers the client signed.</summary>
    private IResult? Verify(HttpRequest request, byte[] body)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith(SdkHmac.Algorithm + " ", StringComparison.Ordinal))
        {
            return Error(401, "APIGW.0301", "Incorrect IAM authentication information: Authorization header missing");
        }

        var parts = authorization[(SdkHmac.Algorithm.Length + 1)..].Split(", ").Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!parts.TryGetValue("Access", out var access) || !parts.TryGetValue("SignedHeaders", out var signed) || !parts.TryGetValue("Signature", out var signature))
        {
            return Error(401, "APIGW.0301", "Incorrect IAM authentication information: Authorization header malformed");
        }

        string secret;
        if (access == AccessKey)
        {
            secret = SecretKey;
        }
        else if (_temporary.TryGetValue(access, out var temporary) && temporary.Expires > DateTimeOffset.UtcNow && request.Headers["X-Security-Token"].ToString() == temporary.Token)
        {
            secret = temporary.Secret;
        }
        else
        {
            return Error(401, "APIGW.0301", "Incorrect IAM authentication information: ak " + access + " not exist or the security token is wrong");
        }

        if (!DateTimeOffset.TryParseExact(request.Headers["X-Sdk-Date"].ToString(), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) || Math.Abs((DateTimeOffset.UtcNow - at).TotalMinutes) > 15)
        {
            return Error(401, "APIGW.0301", "Incorrect IAM authentication information: the X-Sdk-Date is missing or out of the 15-minute window");
        }

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in signed.Split(';'))
        {
            headers[name] = name == "host" ? request.Host.Value ?? "" : request.Headers[name].ToString();
        }

        var query = request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? "")));
        var expected = SdkHmac.Signature(secret, request.Method, request.Path.Value ?? "/", query, headers, body);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature))
            ? null
            : Error(401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail");
    }
}
