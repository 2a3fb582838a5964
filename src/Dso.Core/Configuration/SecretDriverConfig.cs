namespace Dso.Configuration;

/// <summary>`agent.secret_driver`: the Docker secret driver the agent serves for Swarm (spec 10).</summary>
internal sealed class SecretDriverConfig
{
    /// <summary>Where the Docker engine discovers plugins by their socket (docker/docs: plugin discovery).</summary>
    public const string PluginDirectory = "/run/docker/plugins";

    [ConfigKey("socket", "Socket of the secret driver, in /run/docker/plugins; its name without `.sock` is the driver's name (`docker secret create --driver dso`). Empty turns the driver off: stack deploy then makes Swarm secrets that hold the values.")]
    public string Socket { get; set; } = PluginDirectory + "/dso.sock";

    [ConfigKey("by_hand", "Serve secrets made by hand with `docker secret create --driver NAME --label dso.ref=REFERENCE`: the reference is resolved for any service that mounts the secret.")]
    public bool ByHand { get; set; } = true;

    /// <summary>The driver's name (the socket's file name without .sock), or null when the driver is off.</summary>
    public string? DriverName => Socket.Length == 0 ? null : Path.GetFileNameWithoutExtension(Socket);
}
