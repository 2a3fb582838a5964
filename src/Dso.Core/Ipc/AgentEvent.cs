namespace Dso.Ipc;

/// <summary>One line of `docker dso watch` and /v1/events: what happened, to what, when. Never a value.</summary>
internal sealed record AgentEvent(DateTimeOffset Time, string Type, string? Project, string? Service, string Message);
