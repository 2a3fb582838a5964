using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dso.Agent.Events;
using Dso.Agent.Ipc;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Rest;
using Dso.Agent.Rotation;
using Dso.Agent.Swarm;
using Dso.Injection.References;
using Dso.Ipc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Dso.Agent.Hosting;

/// <summary>
/// The agent's routes. On the Unix socket (IPC, peers checked with SO_PEERCRED): /v1/handshake,
/// /v1/status, /v1/projects, /v1/rotate, /v1/events. On TCP (REST, loopback by default): /health,
/// /ready, /metrics, /v1/events, /v1/webhook/{provider}. A route asked on the wrong channel is 404.
/// </summary>
internal static class AgentEndpoints
{
    private static readonly string[] IpcOnly = ["/v1/handshake", "/v1/status", "/v1/projects", "/v1/rotate", "/v1/swarm"];
    private static readonly string[] RestOnly = ["/v1/webhook", "/metrics"];

    public static void UseChannelGate(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<AgentOptions>();
        var authorizer = app.Services.GetRequiredService<PeerAuthorizer>();
        var metrics = app.Services.GetRequiredService<DsoMetrics>();
        var audit = app.Services.GetRequiredService<AuditLog>();
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path.Value ?? "/";
            if (ConnectionChannel.IsIpc(context, out var peer))
            {
                if (!authorizer.IsAllowed(peer, out var reason))
                {
                    metrics.IpcDenied.Inc();
                    audit.Write(ConnectionChannel.Actor(context), "connect", options.SocketPath, "denied", reason);
                    await WriteError(context, StatusCodes.Status403Forbidden, $"{reason}; only root and members of group {authorizer.GroupName} may use the agent");
                    return;
                }

                if (RestOnly.Any(p => path.StartsWith(p, StringComparison.Ordinal)))
                {
                    await WriteError(context, StatusCodes.Status404NotFound, $"{path} is served on the REST address {options.ApiAddress}, not the socket");
                    return;
                }

                if (path.StartsWith("/v1/", StringComparison.Ordinal) && path != "/v1/handshake"
                    && context.Request.Headers[IpcProtocol.VersionHeader].ToString() is var version && version != IpcProtocol.Version.ToString(CultureInfo.InvariantCulture))
                {
                    await WriteError(context, StatusCodes.Status400BadRequest, $"this agent speaks IPC version {IpcProtocol.Version}, the client sent '{version}'; use a docker-dso of the same DSO version as the agent");
                    return;
                }

                await next(context);
                metrics.IpcRequests.WithLabels(Route(path), context.Response.StatusCode.ToString(CultureInfo.InvariantCulture)).Inc();
                return;
            }

            if (IpcOnly.Any(p => path.StartsWith(p, StringComparison.Ordinal)))
            {
                await WriteError(context, StatusCodes.Status404NotFound, $"{path} is served on the agent's socket only");
                return;
            }

            if (options.ApiToken is { Length: > 0 } token && path != "/health" && !HasToken(context, token))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await WriteError(context, StatusCodes.Status401Unauthorized, "this API needs 'Authorization: Bearer TOKEN' (agent.api.token)");
                return;
            }

            await next(context);
        });
    }

    public static void MapAgentEndpoints(this WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new Dictionary<string, string> { ["status"] = "ok" }, IpcJson.Wire.DictionaryStringString));
        app.MapGet("/ready", (AgentRuntime runtime) => runtime.IsReady
            ? Results.Json(new Dictionary<string, string> { ["status"] = "ready" }, IpcJson.Wire.DictionaryStringString)
            : Results.Json(new Dictionary<string, string> { ["status"] = "starting" }, IpcJson.Wire.DictionaryStringString, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapMetrics("/metrics", app.Services.GetRequiredService<DsoMetrics>().Registry);

        app.MapGet("/v1/handshake", () => Results.Json(new HandshakeResponse(IpcProtocol.Version, StatusReporter.Version, IpcProtocol.Capabilities), IpcJson.Wire.HandshakeResponse));
        app.MapGet("/v1/status", StatusAsync);
        app.MapPost("/v1/projects", (HttpContext context, ProjectRegistry projects, SecretRedactor redactor, CancellationToken cancellationToken) =>
            RegisterAsync(context, redactor, (registration, actor) => projects.RegisterAsync(registration, actor, cancellationToken), IpcJson.Wire.RegistrationResult, cancellationToken));
        app.MapPost("/v1/swarm/stacks", (HttpContext context, SwarmStacks stacks, SecretRedactor redactor, CancellationToken cancellationToken) =>
            RegisterAsync(context, redactor, (registration, actor) => stacks.DeployAsync(registration, actor, cancellationToken), IpcJson.Wire.SwarmDeployResult, cancellationToken));
        app.MapDelete("/v1/projects/{name}", async (string name, string? kind, HttpContext context, ProjectRegistry projects, CancellationToken cancellationToken) =>
        {
            try
            {
                return await projects.RemoveAsync(name, ConnectionChannel.Actor(context), cancellationToken, kind)
                    ? Results.NoContent()
                    : Error(StatusCodes.Status404NotFound, $"no project named {name} is registered");
            }
            catch (DsoException e)
            {
                return Error(StatusCodes.Status409Conflict, e.Message);
            }
        });
        app.MapPost("/v1/rotate", RotateAsync);
        app.MapGet("/v1/events", StreamEventsAsync);
        app.MapPost("/v1/webhook/{provider}", WebhookAsync);
    }

    /// <summary>The status report; for Swarm stacks, what Swarm says of their services now (asked for at most 5 s).</summary>
    private static async Task<IResult> StatusAsync(StatusReporter status, ProjectRegistry projects, SwarmStacks stacks, CancellationToken cancellationToken)
    {
        var swarm = new Dictionary<string, IReadOnlyDictionary<string, SwarmServiceStatus>>(StringComparer.Ordinal);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(5));
        foreach (var stack in projects.Snapshot().Where(p => p.Registration.IsSwarm))
        {
            swarm[stack.Name] = await stacks.StatusAsync(stack, bounded.Token);
        }

        return Results.Json(status.Report(swarm), IpcJson.Wire.StatusReport);
    }

    /// <summary>Reads a registration (compose project or Swarm stack) and answers with what <paramref name="register"/> made of it.</summary>
    private static async Task<IResult> RegisterAsync<T>(HttpContext context, SecretRedactor redactor, Func<ProjectRegistration, string, Task<T>> register, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> answer, CancellationToken cancellationToken)
    {
        ProjectRegistration? registration;
        try
        {
            registration = await JsonSerializer.DeserializeAsync(context.Request.Body, IpcJson.Wire.ProjectRegistration, cancellationToken);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"the registration is not valid JSON: {IpcJson.Describe(e)}");
        }

        if (registration is null)
        {
            return Error(StatusCodes.Status400BadRequest, "the registration is empty");
        }

        try
        {
            return Results.Json(await register(registration, ConnectionChannel.Actor(context)), answer);
        }
        catch (UnresolvedReferencesException e)
        {
            return Results.Json(new ErrorResponse(redactor.Redact(e.Message), [.. e.Problems.Select(redactor.Redact)]), IpcJson.Wire.ErrorResponse, statusCode: StatusCodes.Status422UnprocessableEntity);
        }
        catch (DsoException e)
        {
            return Error(StatusCodes.Status400BadRequest, redactor.Redact(e.Message));
        }
    }

    private static async Task<IResult> RotateAsync(HttpContext context, ProjectRegistry projects, RotationQueue queue, CancellationToken cancellationToken)
    {
        RotateRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, IpcJson.Wire.RotateRequest, cancellationToken);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"the rotate request is not valid JSON: {IpcJson.Describe(e)}");
        }

        if (request is null)
        {
            return Error(StatusCodes.Status400BadRequest, "the rotate request is empty");
        }

        var managed = projects.Snapshot();
        if (request.Project is { } name && managed.All(p => p.Name != name))
        {
            return Error(StatusCodes.Status404NotFound, $"the agent manages no project {name} (managed: {(managed.Count == 0 ? "none" : string.Join(", ", managed.Select(p => p.Name)))})");
        }

        var candidates = managed.Where(p => request.Project is null || p.Name == request.Project)
            .SelectMany(p => p.Registration.Services.Select(s => (Project: p, Service: s)))
            .ToList();
        var unknown = (request.Services ?? []).Where(s => candidates.All(c => c.Service.Name != s)).ToList();
        if (unknown.Count > 0)
        {
            return Error(StatusCodes.Status404NotFound, $"no managed service named {string.Join(", ", unknown)}{(request.Project is null ? string.Empty : $" in project {request.Project}")} (known: {string.Join(", ", candidates.Select(c => c.Service.Name).Distinct())})");
        }

        var chosen = candidates
            .Where(c => (request.Services ?? []).Count == 0 || request.Services!.Contains(c.Service.Name))
            .Where(c => request.Secret is null || c.Service.References.Any(r => Consumes(r.Reference, request.Secret)))
            .Select(c => (c.Project.Name, c.Service.Name))
            .ToList();
        if (chosen.Count == 0)
        {
            return Error(StatusCodes.Status404NotFound, request.Secret is null ? "the agent manages no service to rotate" : $"no managed service consumes the secret {request.Secret}");
        }

        var results = await queue.RotateNowAsync(chosen, new RotationTrigger("rotate", ConnectionChannel.Actor(context), Force: request.Force, Manual: true), cancellationToken);
        return Results.Json(new RotateResponse(results), IpcJson.Wire.RotateResponse);
    }

    /// <summary>True when the reference names the secret (`path`, `provider:path`, or the reference itself).</summary>
    private static bool Consumes(string reference, string secret) =>
        Dso.Secrets.SecretReference.TryParse(reference, out var parsed, out _)
        && (parsed.Path == secret || $"{parsed.Provider}:{parsed.Path}" == secret || reference == secret);

    private static async Task StreamEventsAsync(HttpContext context, EventHub hub, CancellationToken cancellationToken)
    {
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(": connected\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        await foreach (var item in hub.SubscribeAsync(cancellationToken))
        {
            await context.Response.WriteAsync($"event: {item.Type}\ndata: {JsonSerializer.Serialize(item, IpcJson.Wire.AgentEvent)}\n\n", cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
    }

    private static async Task<IResult> WebhookAsync(string provider, HttpContext context, WebhookVerifier verifier, ChangeDetector detector, DsoMetrics metrics, EventHub events, AuditLog audit, Secrets.ProviderHealthBook health)
    {
        IResult Refuse(string result, int status, string reason)
        {
            metrics.WebhookRequests.WithLabels(provider, result).Inc();
            audit.Write(ConnectionChannel.Actor(context), "webhook", provider, result, reason);
            return Error(status, reason);
        }

        if (!verifier.Enabled)
        {
            return Refuse("disabled", StatusCodes.Status503ServiceUnavailable, "webhooks are off: set agent.api.webhook_secret");
        }

        if (!verifier.TryAdmit())
        {
            return Refuse("rate_limited", StatusCodes.Status429TooManyRequests, "too many webhook requests this minute (agent.api.webhook_rate)");
        }

        if (health.Snapshot().All(p => p.Name != provider))
        {
            return Refuse("unknown_provider", StatusCodes.Status404NotFound, $"no provider named {provider} is configured");
        }

        var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > WebhookVerifier.MaxBodyBytes)
            {
                return Refuse("too_large", StatusCodes.Status413PayloadTooLarge, $"the body is over {WebhookVerifier.MaxBodyBytes} bytes");
            }
        }

        var problem = verifier.Verify(context.Request.Headers[WebhookVerifier.TimestampHeader], context.Request.Headers[WebhookVerifier.SignatureHeader], body.ToArray());
        if (problem is { } refused)
        {
            return Refuse(refused.Result, refused.Result == "replay" ? StatusCodes.Status409Conflict : StatusCodes.Status401Unauthorized, refused.Reason);
        }

        metrics.WebhookRequests.WithLabels(provider, "accepted").Inc();
        audit.Write(ConnectionChannel.Actor(context), "webhook", provider, "accepted");
        events.Publish("webhook.accepted", null, null, $"change notice for provider {provider}");
        var sent = long.TryParse(context.Request.Headers[WebhookVerifier.TimestampHeader], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        detector.CheckNow(provider, "webhook", sent);
        return Results.Json(new Dictionary<string, string> { ["status"] = "accepted" }, IpcJson.Wire.DictionaryStringString, statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new ErrorResponse(message), IpcJson.Wire.ErrorResponse, statusCode: status);

    private static async Task WriteError(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new ErrorResponse(message), IpcJson.Wire.ErrorResponse));
    }

    private static bool HasToken(HttpContext context, string token)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..]), Encoding.UTF8.GetBytes(token));
    }

    private static string Route(string path) => path.StartsWith("/v1/projects/", StringComparison.Ordinal) ? "/v1/projects/{name}" : path;
}
