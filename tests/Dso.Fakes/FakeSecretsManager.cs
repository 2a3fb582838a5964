using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dso.Fakes;

/// <summary>
/// AWS Secrets Manager's JSON protocol (`POST /`, `X-Amz-Target: secretsmanager.ACTION`,
/// `application/x-amz-json-1.1`): CreateSecret, PutSecretValue, GetSecretValue, BatchGetSecretValue,
/// DescribeSecret, ListSecretVersionIds, ListSecrets, with AWS's error shape
/// (`{"__type": …, "message": …}`) and SigV4 verification of every request against known keys.
/// </summary>
public sealed class FakeSecretsManager : FakeServer
{
    public const string AccessKey = "AKIAFAKEFAKEFAKE0001";
    public const string SecretKey = "fake/secret/key/for/tests/0000000000000";
    public const string Region = "us-east-1";

    /// <summary>The session token of the keys the container credentials endpoint hands out.</summary>
    public const string SessionToken = "FwoGZXIvYXdzEFAKEsessiontoken0123456789";

    /// <summary>What the container credentials endpoint wants in Authorization (AWS_CONTAINER_AUTHORIZATION_TOKEN).</summary>
    public const string ContainerAuthorization = "fake-ecs-authorization-token";
    private readonly ConcurrentDictionary<string, List<(string VersionId, string Value, DateTimeOffset Created)>> _secrets = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, bool> _denied = new();
    private int _valuesRead;
    private int _withSessionToken;

    public FakeSecretsManager()
        : base(https: false, directory: null)
    {
    }

    /// <summary>Calls served, by action.</summary>
    public int Calls(string action) => _calls.GetValueOrDefault(action);

    /// <summary>
    /// Refuses ACTION as IAM does when no policy allows it (`AccessDeniedException`, HTTP 400); a
    /// name after a slash (`GetSecretValue/app/db`) refuses only that secret, which a batch reports
    /// in its `Errors` as Secrets Manager does when GetSecretValue is not allowed on one secret.
    /// </summary>
    public void Deny(string action) => _denied[action] = true;

    /// <summary>The ECS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI).</summary>
    public Uri ContainerCredentials => new(Address, "ecs/credentials");

    /// <summary>Signed requests that carried the session token.</summary>
    public int WithSessionToken => Volatile.Read(ref _withSessionToken);

    /// <summary>Secret values sent, by any action (a batch counts each value).</summary>
    public int ValuesRead => Volatile.Read(ref _valuesRead);

    public string Put(string name, string value)
    {
        var versions = _secrets.GetOrAdd(name, _ => []);
        var id = Guid.NewGuid().ToString();
        lock (versions)
        {
            versions.Add((id, value, DateTimeOffset.UtcNow));
        }

        return id;
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/ecs/credentials", (HttpContext c) =>
        {
            _calls.AddOrUpdate("ContainerCredentials", 1, (_, n) => n + 1);
            return c.Request.Headers.Authorization.ToString() != ContainerAuthorization
                ? Results.Json(new JsonObject { ["code"] = "AccessDenied", ["message"] = "wrong authorization token" }, statusCode: 403)
                : Results.Json(new JsonObject
                {
                    ["AccessKeyId"] = AccessKey, ["SecretAccessKey"] = SecretKey, ["Token"] = SessionToken,
                    ["Expiration"] = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                });
        });
        // EC2's instance metadata service, IMDSv2: a session token first (PUT), then the role's keys.
        const string imdsToken = "fake-imdsv2-session-token";
        app.MapPut("/latest/api/token", (HttpContext c) =>
        {
            _calls.AddOrUpdate("ImdsToken", 1, (_, n) => n + 1);
            return c.Request.Headers["X-aws-ec2-metadata-token-ttl-seconds"].ToString().Length == 0 ? Results.StatusCode(400) : Results.Text(imdsToken);
        });
        app.MapGet("/latest/meta-data/iam/security-credentials/{role?}", (HttpContext c, string? role) =>
        {
            if (c.Request.Headers["X-aws-ec2-metadata-token"].ToString() != imdsToken)
            {
                return Results.StatusCode(401);
            }

            _calls.AddOrUpdate("ImdsCredentials", 1, (_, n) => n + 1);
            return role is null or "" ? Results.Text("dso-fake-role") : Results.Json(new JsonObject
            {
                ["Code"] = "Success", ["Type"] = "AWS-HMAC", ["AccessKeyId"] = AccessKey, ["SecretAccessKey"] = SecretKey, ["Token"] = SessionToken,
                ["LastUpdated"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["Expiration"] = DateTimeOffset.UtcNow.AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            });
        });
        app.MapPost("/", (Func<HttpContext, Task<IResult>>)Serve);
    }

    private async Task<IResult> Serve(HttpContext c)
    {
        using var buffer = new MemoryStream();
        await c.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (Verify(c.Request, body) is { } refused)
        {
            return refused;
        }

        var target = c.Request.Headers["X-Amz-Target"].ToString();
        var action = target.StartsWith("secretsmanager.", StringComparison.Ordinal) ? target["secretsmanager.".Length..] : target;
        _calls.AddOrUpdate(action, 1, (_, n) => n + 1);
        var input = JsonNode.Parse(body) as JsonObject ?? [];
        if (_denied.ContainsKey(action))
        {
            return Error(400, "AccessDeniedException", $"User: arn:aws:sts::123456789012:assumed-role/dso-fake-role/i-0fake is not authorized to perform: secretsmanager:{action} because no identity-based policy allows the secretsmanager:{action} action");
        }

        return action switch
        {
            "CreateSecret" => Create(input),
            "PutSecretValue" => PutValue(input),
            "GetSecretValue" => Get(input),
            "BatchGetSecretValue" => Batch(input),
            "DescribeSecret" => Describe(input),
            "ListSecretVersionIds" => ListVersions(input),
            "ListSecrets" => Json(new JsonObject { ["SecretList"] = new JsonArray([.. _secrets.Keys.Select(k => (JsonNode)new JsonObject { ["Name"] = k, ["ARN"] = Arn(k) })]) }),
            _ => Error(400, "UnknownOperationException", $"unknown operation {action}"),
        };
    }

    protected override Task WriteErrorAsync(HttpContext context, int status) =>
        (status switch
        {
            429 or 400 => Error(400, "ThrottlingException", "Rate exceeded"),
            403 => Error(400, "ExpiredTokenException", "The security token included in the request is expired"),
            _ => Error(500, "InternalServiceError", "An error occurred on the server side."),
        }).ExecuteAsync(context);

    private static string Arn(string name) => $"arn:aws:secretsmanager:{Region}:123456789012:secret:{name}-AbCdEf";

    private static double Epoch(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    private static IResult Json(JsonObject body) => Results.Text(body.ToJsonString(), "application/x-amz-json-1.1");

    private static IResult Error(int status, string type, string message) =>
        Results.Text(new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString(), "application/x-amz-json-1.1", statusCode: status);

    private static IResult NotFound() => Error(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");

    /// <summary>SigV4 as AWS checks it (<see cref="SignedRequest"/>), counting requests that carry the session token.</summary>
    private IResult? Verify(HttpRequest request, byte[] body)
    {
        string Header(string name) => name == "host" ? request.Host.Value ?? "" : request.Headers[name].ToString();
        var problem = SignedRequest.Check(Header, body, request.Path.Value ?? "/", request.QueryString.Value?.TrimStart('?') ?? "", AccessKey, SecretKey, SessionToken, TimeSpan.FromMinutes(5));
        if (problem == SignatureProblem.None && Header("x-amz-security-token").Length > 0)
        {
            Interlocked.Increment(ref _withSessionToken);
        }

        return problem switch
        {
            SignatureProblem.None => null,
            SignatureProblem.MissingAuthentication => Error(400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
            SignatureProblem.UnknownKey or SignatureProblem.BadSessionToken => Error(400, "UnrecognizedClientException", "The security token included in the request is invalid."),
            SignatureProblem.Expired => Error(400, "InvalidSignatureException", "Signature expired or the date is missing."),
            _ => Error(400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."),
        };
    }

    private IResult Create(JsonObject input)
    {
        var name = input["Name"]?.GetValue<string>() ?? "";
        if (_secrets.ContainsKey(name))
        {
            return Error(400, "ResourceExistsException", $"The operation failed because the secret {name} already exists.");
        }

        var id = Put(name, input["SecretString"]?.GetValue<string>() ?? "");
        return Json(new JsonObject { ["ARN"] = Arn(name), ["Name"] = name, ["VersionId"] = id });
    }

    private IResult PutValue(JsonObject input)
    {
        var name = input["SecretId"]?.GetValue<string>() ?? "";
        if (!_secrets.ContainsKey(name))
        {
            return NotFound();
        }

        var id = Put(name, input["SecretString"]?.GetValue<string>() ?? "");
        return Json(new JsonObject { ["ARN"] = Arn(name), ["Name"] = name, ["VersionId"] = id, ["VersionStages"] = new JsonArray("AWSCURRENT") });
    }

    private JsonObject? Value(string id, string? versionId)
    {
        var name = id.StartsWith("arn:", StringComparison.Ordinal) ? _secrets.Keys.FirstOrDefault(k => Arn(k) == id) ?? id : id;
        if (!_secrets.TryGetValue(name, out var versions))
        {
            return null;
        }

        lock (versions)
        {
            var index = versionId is null ? versions.Count - 1 : versions.FindIndex(v => v.VersionId == versionId);
            if (index < 0)
            {
                return null;
            }

            var v = versions[index];
            Interlocked.Increment(ref _valuesRead);
            return new JsonObject
            {
                ["ARN"] = Arn(name), ["Name"] = name, ["VersionId"] = v.VersionId, ["SecretString"] = v.Value,
                ["VersionStages"] = new JsonArray(index == versions.Count - 1 ? "AWSCURRENT" : index == versions.Count - 2 ? "AWSPREVIOUS" : "AWSOLD"),
                ["CreatedDate"] = Epoch(v.Created),
            };
        }
    }

    private IResult Get(JsonObject input)
    {
        var id = input["SecretId"]?.GetValue<string>() ?? "";
        return _denied.ContainsKey("GetSecretValue/" + id)
            ? Error(400, "AccessDeniedException", $"User: arn:aws:sts::123456789012:assumed-role/dso-fake-role/i-0fake is not authorized to perform: secretsmanager:GetSecretValue on resource: {id}")
            : Value(id, input["VersionId"]?.GetValue<string>()) is { } found ? Json(found) : NotFound();
    }

    private IResult Batch(JsonObject input)
    {
        var ids = input["SecretIdList"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        if (ids.Count > 20)
        {
            return Error(400, "InvalidParameterException", "SecretIdList can hold at most 20 secrets.");
        }

        var values = new JsonArray();
        var errors = new JsonArray();
        foreach (var id in ids)
        {
            if (_denied.ContainsKey("GetSecretValue/" + id))
            {
                errors.Add(new JsonObject { ["SecretId"] = id, ["ErrorCode"] = "AccessDeniedException", ["Message"] = $"User: arn:aws:sts::123456789012:assumed-role/dso-fake-role/i-0fake is not authorized to perform: secretsmanager:GetSecretValue on resource: {id}" });
            }
            else if (Value(id, null) is { } found)
            {
                values.Add(found);
            }
            else
            {
                errors.Add(new JsonObject { ["SecretId"] = id, ["ErrorCode"] = "ResourceNotFoundException", ["Message"] = "Secrets Manager can't find the specified secret." });
            }
        }

        return Json(new JsonObject { ["SecretValues"] = values, ["Errors"] = errors });
    }

    private IResult Describe(JsonObject input)
    {
        var name = input["SecretId"]?.GetValue<string>() ?? "";
        if (!_secrets.TryGetValue(name, out var versions))
        {
            return NotFound();
        }

        lock (versions)
        {
            var stages = new JsonObject();
            for (var i = Math.Max(0, versions.Count - 2); i < versions.Count; i++)
            {
                stages[versions[i].VersionId] = new JsonArray(i == versions.Count - 1 ? "AWSCURRENT" : "AWSPREVIOUS");
            }

            return Json(new JsonObject { ["ARN"] = Arn(name), ["Name"] = name, ["LastChangedDate"] = Epoch(versions[^1].Created), ["VersionIdsToStages"] = stages });
        }
    }

    private IResult ListVersions(JsonObject input)
    {
        var name = input["SecretId"]?.GetValue<string>() ?? "";
        if (!_secrets.TryGetValue(name, out var versions))
        {
            return NotFound();
        }

        lock (versions)
        {
            return Json(new JsonObject
            {
                ["ARN"] = Arn(name), ["Name"] = name,
                ["Versions"] = new JsonArray([.. versions.Select((v, i) => (JsonNode)new JsonObject { ["VersionId"] = v.VersionId, ["VersionStages"] = new JsonArray(i == versions.Count - 1 ? "AWSCURRENT" : "AWSPREVIOUS"), ["CreatedDate"] = Epoch(v.Created) })]),
            });
        }
    }
}
