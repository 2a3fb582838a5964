using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.SecretsEngine;

/// <summary>A Connect protocol error code and the HTTP status a unary call answers it with.</summary>
internal sealed record ConnectCode(string Name, int Status);

/// <summary>
/// Errors of the Connect protocol's unary calls (connectrpc.com/docs/protocol): the HTTP status of
/// the code and a JSON body `{"code": "...", "message": "..."}`, which Connect clients turn into
/// their error type. Messages name ids and reasons, never a value.
/// </summary>
internal static class ConnectErrors
{
    public static readonly ConnectCode InvalidArgument = new("invalid_argument", StatusCodes.Status400BadRequest);
    public static readonly ConnectCode NotFound = new("not_found", StatusCodes.Status404NotFound);
    public static readonly ConnectCode PermissionDenied = new("permission_denied", StatusCodes.Status403Forbidden);
    public static readonly ConnectCode Unimplemented = new("unimplemented", StatusCodes.Status501NotImplemented);
    public static readonly ConnectCode DeadlineExceeded = new("deadline_exceeded", StatusCodes.Status504GatewayTimeout);
    public static readonly ConnectCode Unavailable = new("unavailable", StatusCodes.Status503ServiceUnavailable);

    public static async Task WriteAsync(HttpContext context, ConnectCode code, string message)
    {
        context.Response.StatusCode = code.Status;
        context.Response.ContentType = "application/json";
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("code", code.Name);
            json.WriteString("message", message);
            json.WriteEndObject();
        }

        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length));
    }
}
