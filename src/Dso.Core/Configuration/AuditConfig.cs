namespace Dso.Configuration;

/// <summary>`audit:`.</summary>
internal sealed class AuditConfig
{
    [ConfigKey("enabled", "Write the audit log (JSON lines: who, what, when, result; never values).")]
    public bool Enabled { get; set; } = true;

    [ConfigKey("path", "The audit log file (default: STATE_DIR/audit.log).")]
    public string? Path { get; set; }
}
