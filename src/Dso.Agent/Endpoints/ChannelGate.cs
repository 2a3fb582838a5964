using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dso.Agent.Hosting;
using Dso.Agent.Ipc;
using Dso.Agent.Observability;
using Dso.Ipc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Dso.Agent.Endpoints;

/// <summary>
/// Decides, after routing, whether a request may reach the endpoint it matched (spec G10). The
/// decision reads the endpoint's <see cref="ChannelMetadata"/>, never the path text: routing
/// matches paths case-insensitively and decodes them, so a string test on the path is always
/// one spelling short. On the socket, the peer must be root or in the group (SO_PEERCRED) and
/// speak this IPC version; on REST, the Host must be an address (no DNS rebinding), the API token
/// must be sent when one is set, and a state-changing request must not be one a browser could send
/// cross-site. Anything unmatched or without metadata is refused on both channels.
/// </summary>
internal sealed class ChannelGate(AgentOptions options, PeerAuthorizer authorizer, DsoMetrics metrics, AuditLog audit)
{
    /// <summary>Content types a web page may POST cross-site without a CORS preflight.</summary>
    private static readonly string[] SimpleContentTypes = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        var served = endpoint?.Metadata.GetMetadata<ChannelMetadata>();
        if (ConnectionChannel.IsDriver(context, out var engine))
        {
            // Only the engine asks for values here, and it runs as root; the socket is 0600 root too.
            if (engine is not { Uid: 0 })
            {
                metrics.IpcDenied.Inc();
                audit.Write(ConnectionChannel.Actor(context), "connect", options.SecretDriverSocket ?? "secret driver", "denied", "the secret driver answers root (the Docker engine) only");
                await EndpointErrors.WriteAsync(context, StatusCodes.Status403Forbidden, "the secret driver answers root (the Docker engine) only");
            }
            else if (served is null || !served.Channels.HasFlag(Channel.Driver))
            {
                await EndpointErrors.WriteAsync(context, StatusCodes.Status404NotFound, "no such route on the secret driver's socket");
            }
            else
            {
                await next(context);
            }

            return;
        }

        if (ConnectionChannel.IsSecretsEngine(context, out var caller))
        {
            // The same peers as the IPC socket; errors in the Connect protocol's form, which the Secrets Engine's clients read.
            if (!authorizer.IsAllowed(caller, out var refused))
            {
                metrics.IpcDenied.Inc();
                metrics.SecretsEngineRequests.WithLabels("denied").Inc();
                audit.Write(ConnectionChannel.Actor(context), "connect", options.SecretsEngineSocket ?? "secrets engine", "denied", refused);
                await SecretsEngine.ConnectErrors.WriteAsync(context, SecretsEngine.ConnectErrors.PermissionDenied, $"{refused}; only root and members of group {authorizer.GroupName} may ask the agent for secrets");
            }
            else if (served is null || !served.Channels.HasFlag(Channel.SecretsEngine))
            {
                await SecretsEngine.ConnectErrors.WriteAsync(context, SecretsEngine.ConnectErrors.Unimplemented, "the agent serves resolver.v1.ResolverService/GetSecrets only on this socket");
            }
            else
            {
                await next(context);
            }

            return;
        }

        if (ConnectionChannel.IsIpc(context, out var peer))
        {
            if (!authorizer.IsAllowed(peer, out var reason))
            {
                metrics.IpcDenied.Inc();
                audit.Write(ConnectionChannel.Actor(context), "connect", options.SocketPath, "denied", reason);
                await EndpointErrors.WriteAsync(context, StatusCodes.Status403Forbidden, $"{reason}; only root and members of group {authorizer.GroupName} may use the agent");
                return;
            }

            var route = RouteOf(endpoint);
            if (served is null || !served.Channels.HasFlag(Channel.Ipc))
            {
                await EndpointErrors.WriteAsync(context, StatusCodes.Status404NotFound, served is null
                    ? "no such route on the agent's socket"
                    : $"{route} is served on the REST address {options.ApiAddress}, not the socket");
            }
            else if (!served.Handshake && context.Request.Headers[IpcProtocol.VersionHeader].ToString() is var version
                && version != IpcProtocol.Version.ToString(CultureInfo.InvariantCulture))
            {
                await EndpointErrors.WriteAsync(context, StatusCodes.Status400BadRequest, $"this agent speaks IPC version {IpcProtocol.Version}, the client sent '{version}'; use a docker-dso of the same DSO version as the agent");
            }
            else
            {
                await next(context);
            }

            metrics.IpcRequests.WithLabels(served is null ? "unmatched" : route, context.Response.StatusCode.ToString(CultureInfo.InvariantCulture)).Inc();
            return;
        }

        if (served is null || !served.Channels.HasFlag(Channel.Rest))
        {
            await EndpointErrors.WriteAsync(context, StatusCodes.Status404NotFound, served is null
                ? "no such route on the agent's REST address"
                : $"{RouteOf(endpoint)} is served on the agent's socket only");
            return;
        }

        var token = options.ApiToken is { Length: > 0 } configured ? configured : null;
        if (token is null && ForeignHost(context.Request) is { } host)
        {
            await EndpointErrors.WriteAsync(context, StatusCodes.Status403Forbidden, $"the Host header '{host}' is a name, not an address: without agent.api.token the REST API answers requests to an IP address or localhost only");
            return;
        }

        if (token is not null && !served.Anonymous && !HasToken(context, token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await EndpointErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, "this API needs 'Authorization: Bearer TOKEN' (agent.api.token)");
            return;
        }

        if (CrossSiteProblem(context.Request) is { } problem)
        {
            await EndpointErrors.WriteAsync(context, StatusCodes.Status403Forbidden, problem);
            return;
        }

        await next(context);
    }

    /// <summary>The endpoint's route pattern (a bounded set: safe as a metric label), never the request's path text.</summary>
    public static string RouteOf(Endpoint? endpoint) =>
        endpoint is RouteEndpoint { RoutePattern.RawText: { } pattern } ? "/" + pattern.TrimStart('/') : endpoint?.DisplayName ?? "unmatched";

    /// <summary>The Host when it is a DNS name other than localhost: a page that rebinds its own name to 127.0.0.1 sends one.</summary>
    private static string? ForeignHost(HttpRequest request)
    {
        var host = request.Host.Host;
        return host.Length == 0 || IPAddress.TryParse(host.Trim('[', ']'), out _) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            ? null
            : Dso.Secrets.SecretReference.Printable(host, 80);
    }

    /// <summary>
    /// Why a state-changing request looks like one a browser sent from another site: it carries an
    /// Origin or Sec-Fetch-Site header (the agent serves no pages, so no browser request is its
    /// own), or a content type a page may send without a preflight.
    /// </summary>
    private static string? CrossSiteProblem(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return null;
        }

        if (request.Headers.Origin.Count > 0 || request.Headers["Sec-Fetch-Site"].Count > 0)
        {
            return "requests from a web browser are refused: the agent's REST API serves no pages, so a browser's request comes from another site";
        }

        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.ToString() : null;
        return mediaType is null || SimpleContentTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase)
            ? $"send {request.Method} requests with 'Content-Type: application/json' (got {(mediaType is null ? "none" : $"'{mediaType}'")}): a web page may send that type from another site"
            : null;
    }

    private static bool HasToken(HttpContext context, string token)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..]), Encoding.UTF8.GetBytes(token));
    }
}
