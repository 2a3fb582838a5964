namespace Dso.Cli.Commands.Stack;

/// <summary>`validate --json`.</summary>
internal sealed record ValidationReport(string Project, IReadOnlyList<string> Files, bool Valid, IReadOnlyList<ReferenceReport> References, IReadOnlyList<string> Warnings);
