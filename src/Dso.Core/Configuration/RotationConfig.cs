namespace Dso.Configuration;

/// <summary>`rotation` settings (agent, defaults, per secret).</summary>
internal sealed class RotationConfig
{
    [ConfigKey("enabled", "Update running containers when a value they use changes.")]
    public bool Enabled { get; set; } = true;

    [ConfigKey("strategy", "`live`, `signal`, `restart`, `rolling` or `none`.", Allowed = ["live", "signal", "restart", "rolling", "none"])]
    public string? Strategy { get; set; }

    [ConfigKey("health_check_timeout", "How long a new container has to become healthy.")]
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [ConfigKey("grace_period", "How long an old container keeps serving after a swap.")]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(10);
}
