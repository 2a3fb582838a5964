using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dso.Cli;

/// <summary>Source-generated JSON for everything the CLI prints with --json.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(PluginMetadata))]
[JsonSerializable(typeof(VersionReport))]
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
