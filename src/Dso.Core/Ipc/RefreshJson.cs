using System.Text.Json.Serialization;

namespace Dso.Ipc;

/// <summary>JSON for the small untyped bodies of /v1/refresh.</summary>
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(Dictionary<string, int>))]
internal sealed partial class RefreshJson : JsonSerializerContext;
