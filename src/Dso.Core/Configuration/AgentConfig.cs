namespace Dso.Configuration;

/// <summary>`agent:` — the daemon's sockets, directories and loops.</summary>
internal sealed class AgentConfig
{
    [ConfigKey("socket", "The IPC socket the CLI talks to.")]
    public string Socket { get; set; } = "/run/dso/dso.sock";

    [ConfigKey("socket_group", "Group admitted to the socket besides root (socket mode 0660).")]
    public string SocketGroup { get; set; } = "dso";

    [ConfigKey("api", "The REST API (health, metrics, events, webhooks).")]
    public ApiConfig Api { get; set; } = new();

    [ConfigKey("secret_driver", "The Docker secret driver for Swarm: Swarm keeps only each secret's name and labels and asks the agent for the value when a task starts.")]
    public SecretDriverConfig SecretDriver { get; set; } = new();

    [ConfigKey("secrets_engine", "The Docker Secrets Engine resolver API: `se://` ids answered over a Unix socket.")]
    public SecretsEngineConfig SecretsEngine { get; set; } = new();

    [ConfigKey("state_dir", "Registered projects, fingerprints and the journal; never a value.")]
    public string StateDirectory { get; set; } = "/var/lib/dso";

    [ConfigKey("secrets_dir", "RAM directory the agent materializes secrets in (tmpfs is mounted there if it is not RAM-backed).")]
    public string SecretsDirectory { get; set; } = "/run/dso/secrets";

    [ConfigKey("reconcile_interval", "How often the agent re-checks every managed project in full.")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);

    [ConfigKey("check_interval", "How often the agent checks that each managed service's secrets are still in place.")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    [ConfigKey("cache", "Keep resolved values in memory (pinned, zeroed on eviction) and serve the last good value when a provider fails.")]
    public bool Cache { get; set; } = true;

    [ConfigKey("cache_ttl", "How long a cached value is served before it is resolved again.")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(1);

    [ConfigKey("watch", "Change detection.")]
    public WatchConfig Watch { get; set; } = new();

    [ConfigKey("rotation", "Rotation settings of the agent (the last place a rotation key is looked for).")]
    public RotationConfig Rotation { get; set; } = new();

    [ConfigKey("debounce", "Changes to one service within this window coalesce into one rotation (`live` rewrites files at once).")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(5);

    [ConfigKey("max_concurrent_rotations", "Rotations of different projects that may run at the same time (one project rotates one service at a time).")]
    public int MaxConcurrentRotations { get; set; } = 2;
}
