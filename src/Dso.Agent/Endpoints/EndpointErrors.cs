using System.Text.Json;
using Dso.Ipc;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Endpoints;

/// <summary>The JSON error body every refusal and failure answers with: {"error": "…"}.</summary>
internal static class EndpointErrors
{
    public static IResult Result(int status, string message) =>
        Results.Json(new ErrorResponse(message), IpcJson.Wire.ErrorResponse, statusCode: status);

    public static async Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new ErrorResponse(message), IpcJson.Wire.ErrorResponse));
    }
}
