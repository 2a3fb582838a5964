using System.Text.Json.Serialization;

namespace Dso.Cli;

/// <summary>What `docker dso version --json` prints.</summary>
internal sealed record VersionReport(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("buildDate")] string BuildDate,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("os")] string Os);
