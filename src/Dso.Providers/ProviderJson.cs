using System.Text.Json.Serialization;

namespace Dso.Providers;

/// <summary>Source-generated JSON for the request bodies the built-in providers write.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ProviderJson : JsonSerializerContext;
