namespace Dso.Configuration;

/// <summary>`logging:`.</summary>
internal sealed class LoggingConfig
{
    [ConfigKey("level", "`trace`, `debug`, `info`, `warning` or `error`. Values are redacted at every level.", Allowed = ["trace", "debug", "info", "warning", "error"])]
    public string Level { get; set; } = "info";

    [ConfigKey("format", "`text` (journald-friendly) or `json` (one object a line).", Allowed = ["text", "json"])]
    public string Format { get; set; } = "text";
}
