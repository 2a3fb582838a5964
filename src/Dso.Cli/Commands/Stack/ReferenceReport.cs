namespace Dso.Cli.Commands.Stack;

/// <summary>One reference in `validate --json`.</summary>
internal sealed record ReferenceReport(string Service, string Variable, string Reference, string Where, bool Resolvable, string? Error);
