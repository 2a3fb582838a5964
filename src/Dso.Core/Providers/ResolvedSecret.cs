using Dso.Secrets;

namespace Dso.Providers;

/// <summary>
/// A provider's answer for one request: the value, or why there is none (never holding a value).
/// <see cref="Transient"/> marks a failure of the provider itself (unreachable, throttled, broken)
/// rather than an answer that the secret does not exist: only then may a cached value stand in.
/// </summary>
public sealed record ResolvedSecret(SecretValue? Value, string? Error, bool Transient = false)
{
    public static ResolvedSecret Found(SecretValue value) => new(value, null);

    public static ResolvedSecret Missing(string error) => new(null, error);

    public static ResolvedSecret Failed(string error) => new(null, error, Transient: true);
}
