using System.Text.Json.Serialization;

namespace Dso.Notifications;

/// <summary>A provider's circuit breaker moved: `{"event":"provider_circuit",…}`.</summary>
internal sealed record CircuitNotification(string Event, string Provider, string From, string To, string? Error, DateTimeOffset At);

/// <summary>`docker dso notifications test`: `{"event":"test",…}`.</summary>
internal sealed record TestNotification(string Event, string Message, string Host, DateTimeOffset At);

/// <summary>JSON of the notification bodies DSO posts besides rotation results.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(CircuitNotification))]
[JsonSerializable(typeof(TestNotification))]
internal sealed partial class NotificationJson : JsonSerializerContext;
