using System.Text.Json.Serialization;

namespace Dso.Cli.Commands.Config;

/// <summary>JSON for `config show --json` (a tree of maps, lists and strings).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(SortedDictionary<string, object?>))]
[JsonSerializable(typeof(List<object?>))]
[JsonSerializable(typeof(string))]
internal sealed partial class ConfigTreeJson : JsonSerializerContext;
