namespace Dso.Agent.Rotation;

/// <summary>What the detector knows of one secret: the version last seen, when it was checked, when it is next, and its backoff factor.</summary>
internal sealed record SecretWatch(string? Version, DateTimeOffset? LastCheck, DateTimeOffset NextCheck, double Factor);
