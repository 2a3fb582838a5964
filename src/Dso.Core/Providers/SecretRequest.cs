namespace Dso.Providers;

/// <summary>One secret a provider is asked for: its path and, when pinned, its version.</summary>
public sealed record SecretRequest(string Path, string? Version);
