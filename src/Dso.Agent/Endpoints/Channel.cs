namespace Dso.Agent.Endpoints;

/// <summary>Where an endpoint is served: the Unix socket (peers checked per connection), the REST address (TCP), or both.</summary>
[Flags]
internal enum Channel
{
    None = 0,
    Ipc = 1,
    Rest = 2,

    /// <summary>The Docker secret driver's socket (agent.secret_driver.socket): the engine, as root.</summary>
    Driver = 4,

    /// <summary>The Docker Secrets Engine resolver's socket (agent.secrets_engine.socket): root and the socket group, as on the IPC socket.</summary>
    SecretsEngine = 8,
}
