using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dso.Agent.Ipc;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Swarm;
using Dso.Injection.References;
using Dso.Ipc;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Endpoints;

/// <summary>POST /v1/projects, POST /v1/swarm/stacks and DELETE /v1/projects/{name}: what `up`, `stack deploy`, `down` and `stack rm` ask of the agent.</summary>
internal static class ProjectEndpoints
{
    public static Task<IResult> RegisterAsync(HttpContext context, ProjectRegistry projects, SecretRedactor redactor, CancellationToken cancellationToken) =>
        RegisterAsync(context, redactor, (registration, actor) => projects.RegisterAsync(registration, actor, cancellationToken), IpcJson.Wire.RegistrationResult, cancellationToken);

    public static Task<IResult> DeployStackAsync(HttpContext context, SwarmStacks stacks, SecretRedactor redactor, CancellationToken cancellationToken) =>
        RegisterAsync(context, redactor, (registration, actor) => stacks.DeployAsync(registration, actor, cancellationToken), IpcJson.Wire.SwarmDeployResult, cancellationToken);

    public static async Task<IResult> RemoveAsync(string name, string? kind, HttpContext context, ProjectRegistry projects, Swarm.DriverVersions versions, CancellationToken cancellationToken)
    {
        try
        {
            var removed = await projects.RemoveAsync(name, ConnectionChannel.Actor(context), cancellationToken, kind);
            // A Swarm stack's values held for the secret driver go with it (no compose project shares its name).
            versions.Forget(name);

            return removed
                ? Results.NoContent()
                : EndpointErrors.Result(StatusCodes.Status404NotFound, $"no project named {Dso.Secrets.SecretReference.Printable(name, 128)} is registered");
        }
        catch (DsoException e)
        {
            return EndpointErrors.Result(StatusCodes.Status409Conflict, e.Message);
        }
    }

    /// <summary>Reads a registration (compose project or Swarm stack) and answers with what <paramref name="register"/> made of it.</summary>
    private static async Task<IResult> RegisterAsync<T>(HttpContext context, SecretRedactor redactor, Func<ProjectRegistration, string, Task<T>> register, JsonTypeInfo<T> answer, CancellationToken cancellationToken)
    {
        ProjectRegistration? registration;
        try
        {
            registration = await JsonSerializer.DeserializeAsync(context.Request.Body, IpcJson.Wire.ProjectRegistration, cancellationToken);
        }
        catch (JsonException e)
        {
            return EndpointErrors.Result(StatusCodes.Status400BadRequest, $"the registration is not valid JSON: {IpcJson.Describe(e)}");
        }

        if (registration is null)
        {
            return EndpointErrors.Result(StatusCodes.Status400BadRequest, "the registration is empty");
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
            return EndpointErrors.Result(StatusCodes.Status400BadRequest, redactor.Redact(e.Message));
        }
    }
}
