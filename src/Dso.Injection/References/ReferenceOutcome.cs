using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>What resolving one reference gave: its value, or the reason it has none.</summary>
internal sealed record ReferenceOutcome(ServiceReference Reference, SecretValue? Value, string? Error);
