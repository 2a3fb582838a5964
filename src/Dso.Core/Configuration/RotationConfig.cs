namespace Dso.Configuration;

/// <summary>
/// `rotation` settings, accepted in `agent.rotation`, `defaults.rotation`, the older top-level
/// `rotation` and `secrets[].rotation`. Every key may be left out: the most specific section that
/// sets it wins (service label, then secret, then defaults, then top-level, then agent), and
/// <see cref="RotationDefaults"/> fills the rest.
/// </summary>
internal sealed class RotationConfig
{
    [ConfigKey("enabled", "Update running containers when a value they use changes (default `true`).")]
    public bool? Enabled { get; set; }

    [ConfigKey("strategy", "`live`, `signal`, `restart`, `rolling` or `none` (default `rolling`; a compose label `dso.strategy` overrides it for one service).", Allowed = ["live", "signal", "restart", "rolling", "none"])]
    public string? Strategy { get; set; }

    [ConfigKey("signal", "The signal the `signal` strategy sends (default `SIGHUP`; a label `dso.signal` overrides it).")]
    public string? Signal { get; set; }

    [ConfigKey("health_check_timeout", "How long a new container has to become healthy (default `30s`).")]
    public TimeSpan? HealthCheckTimeout { get; set; }

    [ConfigKey("grace_period", "How long an old container keeps serving its open connections after a rolling swap before it is stopped; for `restart`, how long the old container gets between its stop signal and SIGKILL when compose sets no `stop_grace_period` (default `10s`).")]
    public TimeSpan? GracePeriod { get; set; }
}
