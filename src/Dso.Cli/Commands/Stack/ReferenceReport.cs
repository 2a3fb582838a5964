namespace Dso.Cli.Commands.Stack;

/// <summary>
/// One reference in `validate --json`. For one written as Docker's `se://ID`, Reference is what
/// dso.yaml's realms map it to and SecretsEngineId the id; Provider is the provider it resolves through.
/// </summary>
internal sealed record ReferenceReport(string Service, string Variable, string Reference, string Where, bool Resolvable, string? Error, string? Provider = null, string? SecretsEngineId = null);
