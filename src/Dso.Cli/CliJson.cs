using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dso.Cli;

/// <summary>Source-generated JSON for everything the CLI prints with --json.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PluginMetadata))]
[JsonSerializable(typeof(VersionReport))]
[JsonSerializable(typeof(Commands.Secret.SecretMetadataJson))]
[JsonSerializable(typeof(List<Commands.Secret.SecretListItemJson>))]
[JsonSerializable(typeof(List<Commands.Secret.SecretVersionJson>))]
internal sealed partial class CliJson : JsonSerializerContext
{
    public static string Serialize<T>(T value, bool indented = false)
    {
        var typeInfo = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Default.GetTypeInfo(typeof(T))!;
        if (!indented)
        {
            return JsonSerializer.Serialize(value, typeInfo);
        }

        var options = new JsonSerializerOptions(Default.Options) { WriteIndented = true };
        return JsonSerializer.Serialize(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }
}
