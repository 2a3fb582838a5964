using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dso.Agent.Ipc;
using Dso.Agent.SecretsEngine.Wire;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Http;

namespace Dso.Agent.SecretsEngine;

/// <summary>
/// `POST /resolver.v1.ResolverService/GetSecrets` on agent.secrets_engine.socket: the Docker
/// Secrets Engine's resolver call in the Connect protocol's unary form, with its two codecs —
/// binary protobuf (`application/proto`) and JSON (`application/json`). Requests are parsed by
/// Google.Protobuf; an answer's metadata (id, provider, times) is written by it too, and each value
/// is added beside it into one pinned buffer of the answer's exact size, zeroed once written, so
/// no serializer's buffer keeps a copy (a message's fields may come in any order on the wire).
/// </summary>
internal static class SecretsEngineEndpoint
{
    public const string Route = "/resolver.v1.ResolverService/GetSecrets";

    /// <summary>The longest a call may take, whatever Connect-Timeout-Ms asks for.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static async Task GetSecretsAsync(HttpContext context, SecretsEngineResolver resolver, TimeProvider time, CancellationToken cancellationToken)
    {
        var binary = Codec(context.Request.ContentType);
        if (binary is null)
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            context.Response.Headers["Accept-Post"] = "application/proto, application/json";
            return;
        }

        if (context.Request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding && encoding != "identity")
        {
            await ConnectErrors.WriteAsync(context, ConnectErrors.Unimplemented, $"the request is compressed with '{encoding}'; the agent reads uncompressed requests only");
            return;
        }

        GetSecretsRequest request;
        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, cancellationToken);
            request = binary.Value
                ? GetSecretsRequest.Parser.ParseFrom(body.GetBuffer(), 0, (int)body.Length)
                : Json.Parse<GetSecretsRequest>(Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or DecoderFallbackException)
        {
            await ConnectErrors.WriteAsync(context, ConnectErrors.InvalidArgument, $"the request is not a resolver.v1.GetSecretsRequest: {DsoException.OneLine(e.Message)}");
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Timeout(context.Request.Headers["Connect-Timeout-Ms"].ToString()));
        using var answer = await resolver.GetAsync(request.Pattern, ConnectionChannel.Actor(context), bounded.Token);
        if (answer.Error is { } error)
        {
            await ConnectErrors.WriteAsync(context, error, answer.Message);
            return;
        }

        var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        var envelopes = answer.Secrets.Select(s => (Secret: s, Metadata: new GetSecretsResponse.Types.Envelope
        {
            Id = s.Id,
            Provider = s.Provider,
            ResolvedAt = now,
            Metadata = { ["dso.reference"] = s.Reference },
        })).ToList();
        context.Response.ContentType = binary.Value ? "application/proto" : "application/json";
        var buffer = binary.Value ? Proto(envelopes) : JsonAnswer(envelopes);
        try
        {
            context.Response.ContentLength = buffer.Length;
            await context.Response.Body.WriteAsync(buffer, cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>True for binary protobuf, false for JSON, null for anything else.</summary>
    private static bool? Codec(string? contentType)
    {
        var media = (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
        return media switch
        {
            "application/proto" or "application/protobuf" => true,
            "application/json" => false,
            _ => null,
        };
    }

    private static TimeSpan Timeout(string header) =>
        long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0 && ms < Deadline.TotalMilliseconds
            ? TimeSpan.FromMilliseconds(ms)
            : Deadline;

    /// <summary>GetSecretsResponse in protobuf: field 1 once per envelope; each envelope its metadata's fields, then field 2, the value.</summary>
    private static byte[] Proto(List<(ResolvedId Secret, GetSecretsResponse.Types.Envelope Metadata)> envelopes)
    {
        var parts = envelopes.Select(e =>
        {
            var metadata = e.Metadata.ToByteArray();
            var valueLength = e.Secret.Value.Length;
            var length = metadata.Length + 1 + CodedOutputStream.ComputeLengthSize(valueLength) + valueLength;
            return (e.Secret, Metadata: metadata, Length: length);
        }).ToList();
        var buffer = GC.AllocateUninitializedArray<byte>(parts.Sum(p => 1 + CodedOutputStream.ComputeLengthSize(p.Length) + p.Length), pinned: true);
        var at = 0;
        foreach (var (secret, metadata, length) in parts)
        {
            buffer[at++] = (1 << 3) | 2; // field 1 (envelopes), length-delimited
            at = Varint(buffer, at, length);
            metadata.CopyTo(buffer, at);
            at += metadata.Length;
            buffer[at++] = (2 << 3) | 2; // field 2 (value), length-delimited
            at = Varint(buffer, at, secret.Value.Length);
            secret.Value.Reveal().CopyTo(buffer.AsSpan(at));
            at += secret.Value.Length;
        }

        return Exact(buffer, at);
    }

    /// <summary>GetSecretsResponse in the JSON mapping: each envelope's metadata as Google.Protobuf formats it, with `"value"` (base64) first.</summary>
    private static byte[] JsonAnswer(List<(ResolvedId Secret, GetSecretsResponse.Types.Envelope Metadata)> envelopes)
    {
        var head = "{\"envelopes\":["u8;
        var valueHead = "{\"value\":\""u8;
        var parts = envelopes.Select(e => (e.Secret, Tail: Encoding.UTF8.GetBytes("\"," + JsonFormatter.Default.Format(e.Metadata)[1..]))).ToList();
        var size = head.Length + 2 + Math.Max(0, parts.Count - 1);
        foreach (var part in parts)
        {
            size += valueHead.Length + Base64.GetMaxEncodedToUtf8Length(part.Secret.Value.Length) + part.Tail.Length;
        }

        var buffer = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        head.CopyTo(buffer);
        var at = head.Length;
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                buffer[at++] = (byte)',';
            }

            valueHead.CopyTo(buffer.AsSpan(at));
            at += valueHead.Length;
            Base64.EncodeToUtf8(parts[i].Secret.Value.Reveal(), buffer.AsSpan(at), out _, out var written);
            at += written;
            parts[i].Tail.CopyTo(buffer, at);
            at += parts[i].Tail.Length;
        }

        buffer[at++] = (byte)']';
        buffer[at++] = (byte)'}';
        return Exact(buffer, at);
    }

    /// <summary>The buffer, once every byte of it was written (a size miscounted would send uninitialized memory).</summary>
    private static byte[] Exact(byte[] buffer, int written)
    {
        if (written != buffer.Length)
        {
            CryptographicOperations.ZeroMemory(buffer);
            throw new InvalidOperationException($"the answer is {written} bytes, not the {buffer.Length} counted");
        }

        return buffer;
    }

    private static int Varint(byte[] buffer, int at, int value)
    {
        var rest = (uint)value;
        while (rest >= 0x80)
        {
            buffer[at++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        buffer[at++] = (byte)rest;
        return at;
    }
}
