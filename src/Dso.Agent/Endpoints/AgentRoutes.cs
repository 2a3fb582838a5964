using System.Text.Json;
using Dso.Agent.Events;
using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Swarm;
using Dso.Ipc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Dso.Agent.Endpoints;

/// <summary>
/// The agent's endpoints, in route groups whose <see cref="ChannelMetadata"/> the gate reads after
/// routing. On the Unix socket (IPC): /v1/handshake, /v1/status, /v1/projects, /v1/swarm/stacks,
/// /v1/rotate. On the REST address: /health, /ready, /metrics, /v1/webhook/{provider}. On both:
/// /v1/events. On the secret driver's socket: /Plugin.Activate, /SecretProvider.GetSecret. On the
/// Secrets Engine resolver's socket: /resolver.v1.ResolverService/GetSecrets. A route mapped outside these groups has no metadata and is refused everywhere.
/// </summary>
internal static class AgentRoutes
{
    /// <summary>Routing first, so the gate sees which endpoint a request matched before anything runs.</summary>
    public static void UseChannelGate(this WebApplication app)
    {
        var gate = new ChannelGate(
            app.Services.GetRequiredService<AgentOptions>(),
            app.Services.GetRequiredService<Ipc.PeerAuthorizer>(),
            app.Services.GetRequiredService<DsoMetrics>(),
            app.Services.GetRequiredService<AuditLog>());
        app.UseRouting();
        app.Use(gate.InvokeAsync);
    }

    public static void MapAgentEndpoints(this WebApplication app)
    {
        var ipc = app.MapGroup("/v1").WithMetadata(new ChannelMetadata(Channel.Ipc));
        ipc.MapGet("/handshake", () => Results.Json(new HandshakeResponse(IpcProtocol.Version, StatusReporter.Version, IpcProtocol.Capabilities), IpcJson.Wire.HandshakeResponse))
            .WithMetadata(new ChannelMetadata(Channel.Ipc, Handshake: true));
        ipc.MapGet("/status", StatusAsync);
        ipc.MapPost("/projects", ProjectEndpoints.RegisterAsync);
        ipc.MapDelete("/projects/{name}", ProjectEndpoints.RemoveAsync);
        ipc.MapPost("/swarm/stacks", ProjectEndpoints.DeployStackAsync);
        ipc.MapPost("/rotate", RotateEndpoint.HandleAsync);

        var rest = app.MapGroup(string.Empty).WithMetadata(new ChannelMetadata(Channel.Rest));
        rest.MapGet("/health", () => Results.Json(new Dictionary<string, string> { ["status"] = "ok" }, IpcJson.Wire.DictionaryStringString))
            .WithMetadata(new ChannelMetadata(Channel.Rest, Anonymous: true));
        rest.MapGet("/ready", (AgentRuntime runtime) => runtime.IsReady
            ? Results.Json(new Dictionary<string, string> { ["status"] = "ready" }, IpcJson.Wire.DictionaryStringString)
            : Results.Json(new Dictionary<string, string> { ["status"] = "starting" }, IpcJson.Wire.DictionaryStringString, statusCode: StatusCodes.Status503ServiceUnavailable));
        rest.MapMetrics("/metrics", app.Services.GetRequiredService<DsoMetrics>().Registry);
        rest.MapPost("/v1/webhook/{provider}", WebhookEndpoint.HandleAsync);

        app.MapGet("/v1/events", StreamEventsAsync).WithMetadata(new ChannelMetadata(Channel.Ipc | Channel.Rest));

        var driver = app.MapGroup(string.Empty).WithMetadata(new ChannelMetadata(Channel.Driver));
        driver.MapPost("/Plugin.Activate", SecretDriverEndpoint.Activate);
        driver.MapPost("/SecretProvider.GetSecret", SecretDriverEndpoint.GetSecretAsync);

        var secretsEngine = app.MapGroup(string.Empty).WithMetadata(new ChannelMetadata(Channel.SecretsEngine));
        secretsEngine.MapPost(SecretsEngine.SecretsEngineEndpoint.Route, SecretsEngine.SecretsEngineEndpoint.GetSecretsAsync);
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
}
