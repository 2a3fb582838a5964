using System.Text.Json.Serialization;
using Dso.Agent.Rotation;

namespace Dso.Agent.State;

/// <summary>Source-generated JSON for what the agent keeps in its state directory besides registrations.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(JournalEntry))]
internal sealed partial class StateJson : JsonSerializerContext;
