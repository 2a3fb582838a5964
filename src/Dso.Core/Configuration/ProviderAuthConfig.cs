namespace Dso.Configuration;

/// <summary>`providers.NAME.auth`.</summary>
internal sealed class ProviderAuthConfig
{
    [ConfigKey("method", "Authentication method (for example `iam_role`, `token`, `approle`, `managed_identity`).")]
    public string? Method { get; set; }

    [ConfigKey("params", "Method parameters; use ${ENV} for credentials.", Secret = true)]
    public Dictionary<string, string> Params { get; set; } = new(StringComparer.Ordinal);
}
