using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Dso.Agent.Ipc;
using Dso.Agent.Swarm;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.Endpoints;

/// <summary>
/// The secret driver's two routes on its own socket: /Plugin.Activate (the engine's handshake,
/// answering the `secretprovider` capability) and /SecretProvider.GetSecret. Answers are Docker's
/// plugin JSON; a refusal is an `Err` the engine records on the task. An answer with a value is
/// written by hand into one pinned buffer of its exact size, zeroed once written, so no
/// serializer's pooled buffer keeps a copy.
/// </summary>
internal static class SecretDriverEndpoint
{
    public const string ContentType = "application/vnd.docker.plugins.v1.2+json";

    private static readonly byte[] Head = "{\"Value\":\""u8.ToArray();
    private static readonly byte[] Tail = "\",\"DoNotReuse\":true}"u8.ToArray();

    public static IResult Activate() =>
        Results.Json(new PluginActivation(["secretprovider"]), PluginJson.Default.PluginActivation, ContentType);

    public static async Task GetSecretAsync(HttpContext context, SecretDriver driver, CancellationToken cancellationToken)
    {
        SecretDriverAnswer answer;
        try
        {
            var request = await JsonSerializer.DeserializeAsync(context.Request.Body, PluginJson.Default.SecretDriverRequest, cancellationToken);
            answer = request is null
                ? new SecretDriverAnswer(null, "dso: the request is empty")
                : await driver.GetAsync(request, ConnectionChannel.Actor(context), cancellationToken);
        }
        catch (JsonException e)
        {
            answer = new SecretDriverAnswer(null, $"dso: the request is not the secret driver protocol's JSON: {Dso.Ipc.IpcJson.Describe(e)}");
        }

        context.Response.ContentType = ContentType;
        if (answer.Value is not { } value)
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(new PluginError(answer.Err ?? "dso: no value"), PluginJson.Default.PluginError), cancellationToken);
            return;
        }

        using (value)
        {
            var encoded = Base64.GetMaxEncodedToUtf8Length(value.Length);
            var body = GC.AllocateUninitializedArray<byte>(Head.Length + encoded + Tail.Length, pinned: true);
            try
            {
                Head.CopyTo(body, 0);
                Base64.EncodeToUtf8(value.Reveal(), body.AsSpan(Head.Length), out _, out var written);
                Tail.CopyTo(body, Head.Length + written);
                var length = Head.Length + written + Tail.Length;
                context.Response.ContentLength = length;
                await context.Response.Body.WriteAsync(body.AsMemory(0, length), cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(body);
            }
        }
    }
}
