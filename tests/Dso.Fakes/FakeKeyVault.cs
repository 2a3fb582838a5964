using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dso.Fakes;

/// <summary>
/// The App Service flavour of Azure managed identity (what `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER` point a process at): `GET ?api-version=2019-08-01&amp;resource=R` with the
/// `X-IDENTITY-HEADER` secret answers an access token for R. Plain HTTP on loopback, as the real
/// endpoint is.
/// </summary>
public sealed class FakeManagedIdentity : FakeServer
{
    public const string Header = "fake-identity-header-0123456789";
    private readonly ConcurrentDictionary<string, (string Resource, DateTimeOffset Expires)> _tokens = new();
    private int _issued;

    public FakeManagedIdentity()
        : base(https: false, directory: null)
    {
    }

    /// <summary>How long issued tokens are good for.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public int Issued => Volatile.Read(ref _issued);

    /// <summary>The environment a process needs to use this endpoint.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["IDENTITY_ENDPOINT"] = new Uri(Address, "msi/token").ToString(),
        ["IDENTITY_HEADER"] = Header,
    };

    /// <summary>Whether <paramref name="token"/> was issued here for <paramref name="resource"/> and is still good.</summary>
    public bool Accepts(string token, string resource) =>
        _tokens.TryGetValue(token, out var issued) && issued.Resource.TrimEnd('/') == resource.TrimEnd('/') && issued.Expires > DateTimeOffset.UtcNow;

    /// <summary>Makes every issued token expire now (what a token revoked or past its lifetime looks like).</summary>
    public void ExpireAll()
    {
        foreach (var token in _tokens.Keys)
        {
            _tokens[token] = (_tokens[token].Resource, DateTimeOffset.UtcNow.AddSeconds(-1));
        }
    }

    protected override void Map(WebApplication app) => app.MapGet("/msi/token", (HttpContext c) =>
    {
        if (c.Request.Headers["X-IDENTITY-HEADER"].ToString() != Header)
        {
            return Results.Json(new JsonObject { ["statusCode"] = 400, ["message"] = "No X-IDENTITY-HEADER or a wrong one." }, statusCode: 400);
        }

        var resource = c.Request.Query["resource"].ToString();
        if (resource.Length == 0 || c.Request.Query["api-version"].ToString() != "2019-08-01")
        {
            return Results.Json(new JsonObject { ["statusCode"] = 400, ["message"] = "resource and api-version=2019-08-01 are required." }, statusCode: 400);
        }

        var token = "fake-mi." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var expires = DateTimeOffset.UtcNow + TokenLifetime;
        _tokens[token] = (resource, expires);
        Interlocked.Increment(ref _issued);
        return Results.Json(new JsonObject
        {
            ["access_token"] = token,
            ["expires_on"] = expires.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["resource"] = resource,
            ["token_type"] = "Bearer",
            ["client_id"] = "00000000-0000-0000-0000-000000000001",
        });
    });

    protected override Task WriteErrorAsync(HttpContext context, int status) =>
        Results.Json(new JsonObject { ["statusCode"] = status, ["message"] = "identity endpoint fault" }, statusCode: status).ExecuteAsync(context);
}

/// <summary>
/// Azure Key Vault's secrets REST API (api-version 7.x) over HTTPS: `GET /secrets/{name}[/{version}]`,
/// `PUT /secrets/{name}`, `GET /secrets/{name}/versions`, `GET /secrets`, with paging by `nextLink`,
/// Key Vault's challenge (401 with `WWW-Authenticate: Bearer authorization=…, resource=…` to a
/// request without a good token) and its error shape (`{"error": {"code", "message"}}`).
/// Tokens are checked against the <see cref="FakeManagedIdentity"/> that issued them.
/// </summary>
public sealed class FakeKeyVault : FakeServer
{
    public const string Tenant = "72f988bf-0000-0000-0000-00000000fake";
    private const int PageSize = 25;
    private readonly FakeManagedIdentity _identity;
    private readonly ConcurrentDictionary<string, List<Version>> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, bool> _denied = new(StringComparer.OrdinalIgnoreCase);

    public FakeKeyVault(FakeManagedIdentity identity, string? directory = null)
        : base(https: true, directory)
    {
        _identity = identity;
    }

    /// <summary>
    /// The audience Key Vault names in its challenge: the public cloud's vault domain. The fake is at
    /// 127.0.0.1, outside that domain, so a client checking the challenge (the SDK's default) refuses
    /// to send a token unless told the vault is behind another name.
    /// </summary>
    public const string Resource = "https://vault.azure.net";

    /// <summary>Calls served, by operation (get, set, versions, list, challenge).</summary>
    public int Calls(string operation) => _calls.GetValueOrDefault(operation);

    /// <summary>Adds a version; returns its id.</summary>
    public string Put(string name, string value)
    {
        var versions = _secrets.GetOrAdd(name, _ => []);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (versions)
        {
            versions.Add(new Version(id, value, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }

        return id;
    }

    /// <summary>The identity may not read this secret any more (403, as a removed access policy).</summary>
    public void Deny(string name) => _denied[name] = true;

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Query["api-version"].ToString() is not { Length: > 0 })
            {
                await Error(400, "BadParameter", "The request URI contains an invalid or missing api-version.").ExecuteAsync(context);
                return;
            }

            var authorization = context.Request.Headers.Authorization.ToString();
            if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_identity.Accepts(authorization["Bearer ".Length..], Resource))
            {
                Count("challenge");
                // A token that was good and is no longer (revoked, or past its life) gets Continuous
                // Access Evaluation's challenge: the claims a new token must satisfy.
                var claims = authorization.Length == 0 ? "" : $", error=\"insufficient_claims\", claims=\"{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{{\"access_token\":{{\"nbf\":{{\"essential\":true,\"value\":\"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}\"}}}}}}"))}\"";
                context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{Tenant}\", resource=\"{Resource}\"{claims}";
                await Error(401, "Unauthorized", authorization.Length == 0
                    ? "AKV10000: Request is missing a Bearer or PoP token."
                    : "AKV10022: Invalid audience or the token expired.").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.MapGet("/secrets", (HttpContext c) => { Count("list"); return Page(c, [.. _secrets.Keys.Order(StringComparer.Ordinal).Select(n => Item(c, n, null))]); });
        app.MapGet("/secrets/{name}/versions", (HttpContext c, string name) =>
        {
            Count("versions");
            if (Guard(name) is { } refused)
            {
                return refused;
            }

            return _secrets.TryGetValue(name, out var versions)
                ? Page(c, Locked(versions, v => v.Select(x => Item(c, name, x)).ToList()))
                : Page(c, []);
        });
        app.MapGet("/secrets/{name}/{version?}", (HttpContext c, string name, string? version) =>
        {
            Count("get");
            if (Guard(name) is { } refused)
            {
                return refused;
            }

            if (!_secrets.TryGetValue(name, out var versions))
            {
                return NotFound(name, version);
            }

            var found = Locked(versions, v => version is null or "" ? v[^1] : v.FirstOrDefault(x => x.Id == version));
            return found is null ? NotFound(name, version) : Results.Json(Bundle(c, name, found, withValue: true));
        });
        app.MapPut("/secrets/{name}", async (HttpContext c, string name) =>
        {
            Count("set");
            var body = await JsonNode.ParseAsync(c.Request.Body) as JsonObject;
            if (body?["value"]?.GetValue<string>() is not { } value)
            {
                return Error(400, "BadParameter", "Property value is required.");
            }

            var id = Put(name, value);
            var versions = _secrets[name];
            return Results.Json(Bundle(c, name, Locked(versions, v => v.First(x => x.Id == id)), withValue: true));
        });
    }

    protected override Task WriteErrorAsync(HttpContext context, int status) =>
        (status switch
        {
            429 => Error(429, "Throttled", "Operations per second is over the limit for this vault.", retryAfter: 1),
            403 => Error(403, "Forbidden", "The user, group or application does not have secrets get permission on key vault."),
            401 => Error(401, "Unauthorized", "AKV10022: Invalid audience or the token expired."),
            _ => Error(status, "InternalServerError", "Internal server error."),
        }).ExecuteAsync(context);

    private static T Locked<T>(List<Version> versions, Func<List<Version>, T> read)
    {
        lock (versions)
        {
            return read(versions);
        }
    }

    private static ErrorResult Error(int status, string code, string message, int? retryAfter = null) => new(status, code, message, retryAfter);

    private static ErrorResult NotFound(string name, string? version) =>
        Error(404, "SecretNotFound", $"A secret with (name/id) {name}{(version is { Length: > 0 } ? "/" + version : "")} was not found in this key vault.");

    private void Count(string operation) => _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);

    private ErrorResult? Guard(string name) =>
        _denied.ContainsKey(name) ? Error(403, "Forbidden", $"The user, group or application does not have secrets get permission on key vault for {name}.") : null;

    /// <summary>A list entry: a version of a secret, or (in the list of secrets) the secret, named without a version.</summary>
    private JsonObject Item(HttpContext c, string name, Version? version)
    {
        if (version is not null)
        {
            return Bundle(c, name, version, withValue: false);
        }

        var item = Bundle(c, name, Locked(_secrets[name], v => v[^1]), withValue: false);
        item["id"] = $"{Base(c)}/secrets/{name}";
        return item;
    }

    private static JsonObject Bundle(HttpContext c, string name, Version version, bool withValue)
    {
        var bundle = new JsonObject
        {
            ["id"] = $"{Base(c)}/secrets/{name}/{version.Id}",
            ["attributes"] = new JsonObject
            {
                ["enabled"] = true, ["created"] = version.Created, ["updated"] = version.Created, ["recoveryLevel"] = "Recoverable+Purgeable", ["recoverableDays"] = 90,
            },
            ["tags"] = new JsonObject(),
        };
        if (withValue)
        {
            bundle["value"] = version.Value;
        }

        return bundle;
    }

    private static string Base(HttpContext c) => $"{c.Request.Scheme}://{c.Request.Host}";

    /// <summary>One page of <paramref name="items"/> from `$skiptoken` (an offset here), with the next page's link.</summary>
    private static IResult Page(HttpContext c, List<JsonObject> items)
    {
        var size = int.TryParse(c.Request.Query["maxresults"], out var asked) && asked is > 0 and <= PageSize ? asked : PageSize;
        var skip = int.TryParse(c.Request.Query["$skiptoken"], out var offset) ? offset : 0;
        var page = new JsonArray([.. items.Skip(skip).Take(size)]);
        string? next = skip + size < items.Count
            ? $"{Base(c)}{c.Request.Path}?api-version={c.Request.Query["api-version"]}&$skiptoken={skip + size}&maxresults={size}"
            : null;
        return Results.Json(new JsonObject { ["value"] = page, ["nextLink"] = next });
    }

    private sealed record Version(string Id, string Value, long Created);

    private sealed class ErrorResult(int status, string code, string message, int? retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (retryAfter is { } seconds)
            {
                httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, statusCode: status).ExecuteAsync(httpContext);
        }
    }
}
