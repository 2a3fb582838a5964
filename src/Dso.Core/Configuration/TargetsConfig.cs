namespace Dso.Configuration;

/// <summary>`secrets[].targets`.</summary>
internal sealed class TargetsConfig
{
    [ConfigKey("containers", "Compose service names that get the secret.")]
    public List<string> Containers { get; set; } = [];

    [ConfigKey("labels", "Container labels that select the targets.")]
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);
}
