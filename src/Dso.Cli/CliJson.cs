using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Dso.Cli;

/// <summary>Source-generated JSON for everything the CLI prints with --json.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PluginMetadata))]
[JsonSerializable(typeof(VersionReport))]
[JsonSerializable(typeof(List<Commands.NotificationTestResult>))]
[JsonSerializable(typeof(Commands.Secret.SecretMetadataJson))]
[JsonSerializable(typeof(Commands.Secret.SecretWriteJson))]
[JsonSerializable(typeof(Commands.Secret.SecretRemovedJson))]
[JsonSerializable(typeof(Commands.Secret.SecretImportJson))]
[JsonSerializable(typeof(Commands.Config.ConfigValidationJson))]
[JsonSerializable(typeof(List<Commands.Secret.SecretListItemJson>))]
[JsonSerializable(typeof(List<Commands.Secret.SecretVersionJson>))]
[JsonSerializable(typeof(Commands.Stack.ValidationReport))]
[JsonSerializable(typeof(Doctor.DoctorReport))]
[JsonSerializable(typeof(Commands.Stack.MigrationReport))]
internal sealed partial class CliJson : JsonSerializerContext
{
    // Output is read by people and tools, not embedded in HTML: keep ', &, < and … as they are.
    private static readonly Lazy<JsonSerializerOptions> Relaxed = new(() => new JsonSerializerOptions { TypeInfoResolver = Default, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, (JsonTypeInfo<T>)Relaxed.Value.GetTypeInfo(typeof(T)));
}
