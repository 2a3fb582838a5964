using System.Text.Json;
using Dso.Agent.Ipc;
using Dso.Agent.Projects;
using Dso.Agent.Rotation;
using Dso.Ipc;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Endpoints;

/// <summary>POST /v1/rotate: `docker dso rotate [SERVICE…] [--project P] [--secret NAME] [--force]`.</summary>
internal static class RotateEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ProjectRegistry projects, RotationQueue queue, CancellationToken cancellationToken)
    {
        RotateRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, IpcJson.Wire.RotateRequest, cancellationToken);
        }
        catch (JsonException e)
        {
            return EndpointErrors.Result(StatusCodes.Status400BadRequest, $"the rotate request is not valid JSON: {IpcJson.Describe(e)}");
        }

        if (request is null)
        {
            return EndpointErrors.Result(StatusCodes.Status400BadRequest, "the rotate request is empty");
        }

        var managed = projects.Snapshot();
        if (request.Project is { } name && managed.All(p => p.Name != name))
        {
            return EndpointErrors.Result(StatusCodes.Status404NotFound, $"the agent manages no project {name} (managed: {(managed.Count == 0 ? "none" : string.Join(", ", managed.Select(p => p.Name)))})");
        }

        var candidates = managed.Where(p => request.Project is null || p.Name == request.Project)
            .SelectMany(p => p.Registration.Services.Select(s => (Project: p, Service: s)))
            .ToList();
        var unknown = (request.Services ?? []).Where(s => candidates.All(c => c.Service.Name != s)).ToList();
        if (unknown.Count > 0)
        {
            return EndpointErrors.Result(StatusCodes.Status404NotFound, $"no managed service named {string.Join(", ", unknown)}{(request.Project is null ? string.Empty : $" in project {request.Project}")} (known: {string.Join(", ", candidates.Select(c => c.Service.Name).Distinct())})");
        }

        var chosen = candidates
            .Where(c => (request.Services ?? []).Count == 0 || request.Services!.Contains(c.Service.Name))
            .Where(c => request.Secret is null || c.Service.References.Any(r => Consumes(r.Reference, request.Secret)))
            .Select(c => (c.Project.Name, c.Service.Name))
            .ToList();
        if (chosen.Count == 0)
        {
            return EndpointErrors.Result(StatusCodes.Status404NotFound, request.Secret is null ? "the agent manages no service to rotate" : $"no managed service consumes the secret {request.Secret}");
        }

        var results = await queue.RotateNowAsync(chosen, new RotationTrigger("rotate", ConnectionChannel.Actor(context), Force: request.Force, Manual: true), cancellationToken);
        return Results.Json(new RotateResponse(results), IpcJson.Wire.RotateResponse);
    }

    /// <summary>True when the reference names the secret (`path`, `provider:path`, or the reference itself).</summary>
    private static bool Consumes(string reference, string secret) =>
        Dso.Secrets.SecretReference.TryParse(reference, out var parsed, out _)
        && (parsed.Path == secret || $"{parsed.Provider}:{parsed.Path}" == secret || reference == secret);
}
