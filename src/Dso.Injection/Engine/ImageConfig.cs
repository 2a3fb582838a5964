namespace Dso.Injection.Engine;

/// <summary>What an image would run and as whom, from its config.</summary>
internal sealed record ImageConfig(IReadOnlyList<string>? Entrypoint, IReadOnlyList<string>? Command, string? User);
