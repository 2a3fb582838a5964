using System.Buffers;
using System.Text.Json;

namespace Dso.Plugins;

/// <summary>A JSON-RPC error as the protocol carries it.</summary>
public sealed record RpcError(int Code, string Message);

/// <summary>
/// One JSON-RPC 2.0 message, parsed (a request when <see cref="Method"/> is set, else a response).
/// Holds the parsed document; dispose it. Values are never turned into strings here: resolve
/// answers are read by <see cref="PluginAnswers"/> straight from the bytes.
/// </summary>
public sealed class RpcMessage : IDisposable
{
    private readonly JsonDocument _document;
    private readonly byte[] _line;

    private RpcMessage(byte[] line, JsonDocument document, JsonElement? id, string? method, JsonElement? parameters, JsonElement? result, RpcError? error)
    {
        _line = line;
        _document = document;
        Id = id;
        Method = method;
        Params = parameters;
        Result = result;
        Error = error;
    }

    public JsonElement? Id { get; }

    public string? Method { get; }

    public JsonElement? Params { get; }

    public JsonElement? Result { get; }

    public RpcError? Error { get; }

    /// <summary>The numeric id, or null when it is absent or not an integer.</summary>
    public long? NumericId => Id is { ValueKind: JsonValueKind.Number } id && id.TryGetInt64(out var n) ? n : null;

    /// <summary>
    /// Parses one line, which the message then owns (the document reads from it) and zeroes on
    /// dispose, or at once when it is not one JSON-RPC 2.0 object (<see cref="FormatException"/>, saying why).
    /// </summary>
    public static RpcMessage Parse(byte[] line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(line);
            throw new FormatException("the message is not valid JSON");
        }

        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the message is not a JSON object");
            }

            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
            {
                throw new FormatException("the message lacks \"jsonrpc\": \"2.0\"");
            }

            JsonElement? id = root.TryGetProperty("id", out var i) ? i : null;
            string? method = null;
            if (root.TryGetProperty("method", out var m))
            {
                method = m.ValueKind == JsonValueKind.String ? m.GetString() : throw new FormatException("\"method\" is not a string");
            }

            JsonElement? parameters = root.TryGetProperty("params", out var p) ? p : null;
            JsonElement? result = root.TryGetProperty("result", out var r) ? r : null;
            RpcError? error = null;
            if (root.TryGetProperty("error", out var e))
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("code", out var code) || !code.TryGetInt32(out var c))
                {
                    throw new FormatException("\"error\" is not an object with an integer \"code\"");
                }

                error = new RpcError(c, e.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : "(no message)");
            }

            if (method is null && result is null && error is null)
            {
                throw new FormatException("the message is neither a request (method) nor a response (result or error)");
            }

            return new RpcMessage(line, document, id, method, parameters, result, error);
        }
        catch
        {
            document.Dispose();
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(line);
            throw;
        }
    }

    /// <summary>A request line (newline included).</summary>
    public static byte[] Request(long id, string method, Action<Utf8JsonWriter>? writeParams = null) =>
        Write(w =>
        {
            w.WriteNumber("id", id);
            w.WriteString("method", method);
            if (writeParams is not null)
            {
                w.WritePropertyName("params");
                w.WriteStartObject();
                writeParams(w);
                w.WriteEndObject();
            }
        });

    /// <summary>A success response line (newline included).</summary>
    public static byte[] Response(JsonElement? id, Action<Utf8JsonWriter> writeResult) =>
        Write(w =>
        {
            WriteId(w, id);
            w.WritePropertyName("result");
            w.WriteStartObject();
            writeResult(w);
            w.WriteEndObject();
        });

    /// <summary>An error response line (newline included).</summary>
    public static byte[] ErrorResponse(JsonElement? id, int code, string message) =>
        Write(w =>
        {
            WriteId(w, id);
            w.WritePropertyName("error");
            w.WriteStartObject();
            w.WriteNumber("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
        });

    public void Dispose()
    {
        _document.Dispose();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_line);
    }

    private static void WriteId(Utf8JsonWriter w, JsonElement? id)
    {
        w.WritePropertyName("id");
        if (id is { } value)
        {
            value.WriteTo(w);
        }
        else
        {
            w.WriteNullValue();
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            body(w);
            w.WriteEndObject();
        }

        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        buffer.Clear(); // zeroes what was written (a resolve answer holds values)
        return line;
    }
}
