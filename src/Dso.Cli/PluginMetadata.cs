using System.Text.Json.Serialization;

namespace Dso.Cli;

/// <summary>
/// The answer to `docker-dso docker-cli-plugin-metadata`, the Docker CLI plugin contract.
/// Property order and names are part of the contract.
/// </summary>
internal sealed record PluginMetadata(
    [property: JsonPropertyName("SchemaVersion")] string SchemaVersion,
    [property: JsonPropertyName("Vendor")] string Vendor,
    [property: JsonPropertyName("Version")] string Version,
    [property: JsonPropertyName("ShortDescription")] string ShortDescription)
{
    public const string Command = "docker-cli-plugin-metadata";

    /// <summary>The first argument Docker passes when it runs the plugin as `docker dso …`.</summary>
    public const string PluginName = "dso";

    public static PluginMetadata Current { get; } = new(
        "0.1.0",
        "DSO",
        BuildInfo.Current.Version,
        "Docker Secret Operator: deliver secrets into Compose containers");
}
