namespace Dso.Configuration;

/// <summary>`agent.secrets_engine`: the Docker Secrets Engine resolver API the agent can serve.</summary>
internal sealed class SecretsEngineConfig
{
    [ConfigKey("socket", "Unix socket on which the agent answers the Docker Secrets Engine's resolver API (resolver.v1.ResolverService/GetSecrets, Connect protocol) for `se://` ids, with the IPC socket's peer checks (root and socket_group). Empty (the default): not served.")]
    public string Socket { get; set; } = string.Empty;
}
