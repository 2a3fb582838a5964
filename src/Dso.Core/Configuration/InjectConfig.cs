namespace Dso.Configuration;

/// <summary>`defaults.inject`.</summary>
internal sealed class InjectConfig
{
    [ConfigKey("type", "`env` (dso://) or `file` (dsofile://).", Allowed = ["env", "file"])]
    public string Type { get; set; } = "env";
}
