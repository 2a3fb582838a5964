using Dso.Secrets;

namespace Dso.Providers;

/// <summary>A provider's answer for one request: the value, or why there is none (never holding a value).</summary>
public sealed record ResolvedSecret(SecretValue? Value, string? Error)
{
    public static ResolvedSecret Found(SecretValue value) => new(value, null);

    public static ResolvedSecret Missing(string error) => new(null, error);
}
