using System.Net;
using Dso.Configuration;

namespace Dso.Agent.Hosting;

/// <summary>The agent's settings, from dso.yaml's `agent:`, `logging:` and `audit:` (defaults in the config classes).</summary>
internal sealed record AgentOptions(
    string SocketPath,
    string SocketGroup,
    IPEndPoint ApiEndpoint,
    string? ApiToken,
    string? WebhookSecret,
    int WebhookRatePerMinute,
    string StateDirectory,
    string SecretsDirectory,
    TimeSpan ReconcileInterval,
    TimeSpan CheckInterval,
    bool CacheEnabled,
    TimeSpan CacheTtl,
    string LogLevel,
    string LogFormat,
    string? AuditPath,
    TimeSpan Debounce,
    int MaxConcurrentRotations,
    WatchConfig Watch,
    string? SecretDriverSocket,
    string? SecretsEngineSocket = null)
{
    public static AgentOptions From(LoadedConfig loaded)
    {
        var config = loaded.Config;
        var agent = config.Agent;
        var file = loaded.Path is null ? "defaults" : Path.GetFileName(loaded.Path);
        return new AgentOptions(
            agent.Socket,
            agent.SocketGroup,
            ConfigLoader.ParseAddress(agent.Api.Address, file),
            agent.Api.Token,
            agent.Api.WebhookSecret,
            agent.Api.WebhookRate,
            agent.StateDirectory,
            agent.SecretsDirectory,
            agent.ReconcileInterval,
            agent.CheckInterval,
            agent.Cache,
            agent.CacheTtl,
            config.Logging.Level,
            config.Logging.Format,
            config.Audit.Enabled ? config.Audit.Path ?? Path.Combine(agent.StateDirectory, "audit.log") : null,
            agent.Debounce,
            agent.MaxConcurrentRotations,
            agent.Watch,
            agent.SecretDriver.Socket.Length == 0 ? null : agent.SecretDriver.Socket,
            agent.SecretsEngine.Socket.Length == 0 ? null : agent.SecretsEngine.Socket);
    }

    public string ApiAddress => ApiEndpoint.ToString();

    /// <summary>The secret driver's name (its socket's file name without .sock), or null when it is off.</summary>
    public string? SecretDriverName => SecretDriverSocket is null ? null : Path.GetFileNameWithoutExtension(SecretDriverSocket);
}
