namespace Dso.Injection.Compose;

/// <summary>One variable of a service's environment and where it was set (compose file or env_file).</summary>
internal sealed record EnvironmentEntry(string Name, string? Value, string Where);
