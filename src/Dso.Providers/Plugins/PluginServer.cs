using System.Text.Json;
using Dso.Plugins;

namespace Dso.Providers.Plugins;

/// <summary>The provider behind a plugin: what the built-in plugins implement.</summary>
internal interface IPluginBackend : IDisposable
{
    bool Versions { get; }

    int MaxBatch { get; }

    Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken);

    Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken);

    Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken);
}

/// <summary>A backend's refusal of a whole call, carried to the host as a JSON-RPC error.</summary>
internal sealed class BackendException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

/// <summary>
/// The plugin side of the protocol for the built-in providers (`docker-dso provider-plugin TYPE`):
/// reads requests from stdin, answers on stdout, until shutdown or the end of stdin.
/// </summary>
internal static class PluginServer
{
    public static async Task<int> RunAsync(Stream input, Stream output, Func<BackendConfig, IPluginBackend> create, CancellationToken cancellationToken)
    {
        using var reader = new LineReader(input);
        IPluginBackend? backend = null;
        try
        {
            while (true)
            {
                byte[]? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken);
                }
                catch (MessageTooLargeException e)
                {
                    await output.WriteAsync(RpcMessage.ErrorResponse(null, PluginErrorCodes.InvalidRequest, e.Message), cancellationToken);
                    return 2;
                }

                if (line is null)
                {
                    return 0;
                }

                byte[] answer;
                var stop = false;
                try
                {
                    using var request = RpcMessage.Parse(line);
                    if (request.Method is null)
                    {
                        answer = RpcMessage.ErrorResponse(request.Id, PluginErrorCodes.InvalidRequest, "expected a request");
                    }
                    else
                    {
                        (answer, stop) = await HandleAsync(request, () => backend, b => backend = b, create, cancellationToken);
                    }
                }
                catch (FormatException e)
                {
                    answer = RpcMessage.ErrorResponse(null, PluginErrorCodes.ParseError, e.Message);
                }

                await output.WriteAsync(answer, cancellationToken);
                await output.FlushAsync(cancellationToken);
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(answer);
                if (stop)
                {
                    return 0;
                }
            }
        }
        finally
        {
            backend?.Dispose();
        }
    }

    private static async Task<(byte[] Answer, bool Stop)> HandleAsync(RpcMessage request, Func<IPluginBackend?> current, Action<IPluginBackend> set, Func<BackendConfig, IPluginBackend> create, CancellationToken cancellationToken)
    {
        var id = request.Id;
        try
        {
            switch (request.Method)
            {
                case PluginProtocol.Initialize:
                    if (request.Params is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("protocolVersion", out var v) || !v.TryGetInt32(out var version))
                    {
                        return (RpcMessage.ErrorResponse(id, PluginErrorCodes.InvalidParams, "initialize needs protocolVersion and config"), false);
                    }

                    if (version != PluginProtocol.Version)
                    {
                        return (RpcMessage.ErrorResponse(id, PluginErrorCodes.InvalidParams, $"protocol version {version} is not supported (this plugin speaks {PluginProtocol.Version})"), false);
                    }

                    var backend = create(BackendConfig.Read(p.TryGetProperty("config", out var c) ? c : default));
                    set(backend);
                    return (RpcMessage.Response(id, w =>
                    {
                        w.WriteNumber("protocolVersion", PluginProtocol.Version);
                        w.WriteString("plugin", "docker-dso built-in");
                        w.WriteStartObject("capabilities");
                        w.WriteBoolean("versions", backend.Versions);
                        w.WriteNumber("maxBatch", backend.MaxBatch);
                        w.WriteEndObject();
                    }), false);
                case PluginProtocol.Shutdown:
                    return (RpcMessage.Response(id, _ => { }), true);
            }

            if (current() is not { } ready)
            {
                return (RpcMessage.ErrorResponse(id, PluginErrorCodes.NotInitialized, "initialize first"), false);
            }

            switch (request.Method)
            {
                case PluginProtocol.Resolve:
                    {
                        var answers = await ready.ResolveAsync(PluginAnswers.ReadRequests(request.Params), cancellationToken);
                        try
                        {
                            return (RpcMessage.Response(id, w => PluginAnswers.WriteResolved(w, answers)), false);
                        }
                        finally
                        {
                            foreach (var answer in answers)
                            {
                                answer.Value?.Dispose();
                            }
                        }
                    }

                case PluginProtocol.Versions:
                    var versions = await ready.VersionsAsync(PluginAnswers.ReadRequests(request.Params), cancellationToken);
                    return (RpcMessage.Response(id, w => PluginAnswers.WriteVersions(w, versions)), false);
                case PluginProtocol.Health:
                    var (ok, message) = await ready.HealthAsync(cancellationToken);
                    return (RpcMessage.Response(id, w =>
                    {
                        w.WriteBoolean("ok", ok);
                        w.WriteString("message", message);
                    }), false);
                default:
                    return (RpcMessage.ErrorResponse(id, PluginErrorCodes.MethodNotFound, $"no method {request.Method}"), false);
            }
        }
        catch (FormatException e)
        {
            return (RpcMessage.ErrorResponse(id, PluginErrorCodes.InvalidParams, e.Message), false);
        }
        catch (BackendException e)
        {
            return (RpcMessage.ErrorResponse(id, e.Code, e.Message), false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A backend bug or a client library's surprise answers this call; the plugin keeps serving.
            return (RpcMessage.ErrorResponse(id, PluginErrorCodes.Internal, $"{e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()}"), false);
        }
    }
}

/// <summary>The configuration a built-in plugin receives in initialize (ProviderConfig's wire form).</summary>
internal sealed record BackendConfig(string? Endpoint, string? Region, IReadOnlyDictionary<string, string> Options, string? AuthMethod, IReadOnlyDictionary<string, string> AuthParams, TimeSpan Timeout)
{
    public static byte[] Write(Configuration.ProviderConfig config)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteIf(w, "endpoint", config.Endpoint);
            WriteIf(w, "region", config.Region);
            w.WriteNumber("timeoutSeconds", config.Timeout.TotalSeconds);
            WriteMap(w, "options", config.Options);
            w.WriteStartObject("auth");
            WriteIf(w, "method", config.Auth.Method);
            WriteMap(w, "params", config.Auth.Params);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        var bytes = buffer.WrittenSpan.ToArray();
        buffer.Clear();
        return bytes;
    }

    public static BackendConfig Read(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("initialize needs a config object");
        }

        var auth = config.TryGetProperty("auth", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        return new BackendConfig(
            Text(config, "endpoint"),
            Text(config, "region"),
            Map(config, "options"),
            auth.ValueKind == JsonValueKind.Object ? Text(auth, "method") : null,
            auth.ValueKind == JsonValueKind.Object ? Map(auth, "params") : new Dictionary<string, string>(),
            TimeSpan.FromSeconds(config.TryGetProperty("timeoutSeconds", out var t) && t.TryGetDouble(out var s) && s > 0 ? s : 10));
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Dictionary<string, string> Map(JsonElement e, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty(name, out var o) && o.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in o.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                map[p.Name] = p.Value.GetString()!;
            }
        }

        return map;
    }

    private static void WriteIf(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteMap(Utf8JsonWriter w, string name, Dictionary<string, string> map)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
    }
}
