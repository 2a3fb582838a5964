namespace Dso.Configuration;

/// <summary>`defaults:`.</summary>
internal sealed class DefaultsConfig
{
    [ConfigKey("provider", "Provider for references without `NAME:` (default: `local`, or the only provider configured).")]
    public string? Provider { get; set; }

    [ConfigKey("inject", "How mapped secrets are delivered.")]
    public InjectConfig Inject { get; set; } = new();

    [ConfigKey("rotation", "Default rotation settings.")]
    public RotationConfig Rotation { get; set; } = new();
}
