using System.Text.Json.Serialization;

namespace Dso.Agent.Rotation;

/// <summary>JSON for the Slack-compatible notification message.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RotationNotifierJson : JsonSerializerContext;
