using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// What resolving one reference gave: its value, or the reason it has none; <paramref name="Transient"/>
/// when the provider itself failed (unreachable, throttled, broken) rather than answering that there is no such secret.
/// </summary>
internal sealed record ReferenceOutcome(ServiceReference Reference, SecretValue? Value, string? Error, bool Transient = false);
