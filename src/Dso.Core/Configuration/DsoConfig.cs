namespace Dso.Configuration;

/// <summary>dso.yaml (spec 3.4): providers, the agent, defaults, the seed's `secrets:` mappings, logging, audit.</summary>
internal sealed class DsoConfig
{
    [ConfigKey("version", "Schema version, informative (the seed's `v1.0.0` is accepted).")]
    public string? Version { get; set; }

    [ConfigKey("mode", "`agent` or `local`, informative: DSO works out the mode from whether an agent runs.", Allowed = ["agent", "local"])]
    public string? Mode { get; set; }

    [ConfigKey("providers", "Secret providers by name; references choose one with `dso://NAME:path`. Default: one `local` vault.")]
    public Dictionary<string, ProviderConfig> Providers { get; set; } = new(StringComparer.Ordinal);

    [ConfigKey("provider", "The original project's one-provider form: `provider: {type: aws, region: us-east-1}` is `providers: {aws: {type: aws, region: us-east-1}}`, the provider named after its type.")]
    public ProviderConfig? Provider { get; set; }

    [ConfigKey("agent", "The agent daemon.")]
    public AgentConfig Agent { get; set; } = new();

    [ConfigKey("defaults", "Defaults for references and rotation.")]
    public DefaultsConfig Defaults { get; set; } = new();

    [ConfigKey("secrets", "Named secrets mapped onto environment variables of labelled containers (the seed's agent-mode model).")]
    public List<SecretMappingConfig> Secrets { get; set; } = [];

    [ConfigKey("realms", "Docker Secrets Engine ids (`se://ID` in a compose file) by pattern (`docker/db/**`: `*` is one component, `**` any number): the provider and path each resolves through. The first pattern that matches wins; an id none matches is resolved through the default provider under its own name.")]
    public Dictionary<string, RealmConfig> Realms { get; set; } = new(StringComparer.Ordinal);

    [ConfigKey("rotation", "Default rotation settings (older top-level form of defaults.rotation).")]
    public RotationConfig? Rotation { get; set; }

    [ConfigKey("proxy", "The TCP proxy that owns the host ports of rolling services.")]
    public ProxyConfig Proxy { get; set; } = new();

    [ConfigKey("notifications", "Where rotation results are posted.")]
    public NotificationsConfig Notifications { get; set; } = new();

    [ConfigKey("logging", "Logging of the CLI and agent.")]
    public LoggingConfig Logging { get; set; } = new();

    [ConfigKey("audit", "The audit log.")]
    public AuditConfig Audit { get; set; } = new();
}
