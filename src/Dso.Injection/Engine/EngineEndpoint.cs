using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dso.Injection.Engine;

/// <summary>
/// Where the Docker engine is: DOCKER_HOST, else the current docker context, else the local socket.
/// DSO bind-mounts secrets from a RAM directory on this host, so it needs the engine to be here
/// too: a tcp:// or ssh:// engine is refused with a clear error (spec 4.1).
/// </summary>
internal sealed record EngineEndpoint(string Host, string Source)
{
    public const string DefaultHost = "unix:///var/run/docker.sock";

    public bool IsLocal => Host.StartsWith("unix://", StringComparison.Ordinal);

    public static EngineEndpoint Resolve(Func<string, string?> variable)
    {
        if (variable("DOCKER_HOST") is { } host)
        {
            return new EngineEndpoint(host, "DOCKER_HOST");
        }

        var configDirectory = variable("DOCKER_CONFIG") ?? Path.Combine(variable("HOME") ?? "/root", ".docker");
        var context = variable("DOCKER_CONTEXT") ?? CurrentContext(configDirectory);
        if (context is null or "default")
        {
            return new EngineEndpoint(DefaultHost, "the default socket");
        }

        var meta = Path.Combine(configDirectory, "contexts", "meta", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(context))), "meta.json");
        if (!File.Exists(meta))
        {
            throw new DsoException($"docker context '{context}' is selected but {meta} does not exist; run 'docker context use default'");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(meta));
        var contextHost = document.RootElement.TryGetProperty("Endpoints", out var endpoints)
            && endpoints.TryGetProperty("docker", out var docker)
            && docker.TryGetProperty(nameof(Host), out var hostElement)
                ? hostElement.GetString()
                : null;
        return new EngineEndpoint(contextHost ?? DefaultHost, $"docker context '{context}'");
    }

    /// <summary>Throws unless the engine is on this host.</summary>
    public EngineEndpoint RequireLocal()
    {
        if (!IsLocal)
        {
            throw new DsoException(
                $"the Docker engine is remote ({Host}, from {Source}): docker dso delivers secrets through a RAM directory on the engine's host, so run it there (or unset DOCKER_HOST / 'docker context use default')");
        }

        return this;
    }

    private static string? CurrentContext(string configDirectory)
    {
        var config = Path.Combine(configDirectory, "config.json");
        if (!File.Exists(config))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(config));
            return document.RootElement.TryGetProperty("currentContext", out var current) ? current.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
