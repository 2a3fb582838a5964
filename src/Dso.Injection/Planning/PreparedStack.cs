namespace Dso.Injection.Planning;

/// <summary>The result of preparing a stack: the override to pass to compose, what is managed, and what to tell the user.</summary>
internal sealed record PreparedStack(string? OverrideFile, IReadOnlyList<string> ManagedServices, int SecretCount, IReadOnlyList<string> Warnings);
