namespace Dso.Configuration;

/// <summary>One entry of `secrets:`: environment variables mapped to provider paths, for labelled containers.</summary>
internal sealed class SecretMappingConfig
{
    [ConfigKey("name", "The name services refer to with the label `dso.secrets: a,b` (unique).")]
    public string? Name { get; set; }

    [ConfigKey("provider", "Provider of the mapped paths (default: defaults.provider).")]
    public string? Provider { get; set; }

    [ConfigKey("rotation", "How a change of this secret rotates the services it targets (`strategy`, `enabled: false` = `none`, `signal`, timeouts); a label `dso.strategy` still wins.")]
    public RotationConfig? Rotation { get; set; }

    [ConfigKey("inject", "How the values are delivered (default: defaults.inject).")]
    public InjectConfig? Inject { get; set; }

    [ConfigKey("targets", "Which containers get it.")]
    public TargetsConfig Targets { get; set; } = new();

    [ConfigKey("mappings", "Environment variable → provider path (optionally #key, @version).")]
    public Dictionary<string, string> Mappings { get; set; } = new(StringComparer.Ordinal);
}
