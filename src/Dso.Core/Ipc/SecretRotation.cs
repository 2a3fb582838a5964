namespace Dso.Ipc;

/// <summary>
/// How a change of one secret is rolled out, from its dso.yaml `secrets[]` entry (the seed's
/// "override for this secret only"): its strategy (`none` when the entry disables rotation), and
/// the signal and timeouts that go with it. Null keys fall back to the service's and the defaults.
/// </summary>
internal sealed record SecretRotation(string? Strategy, string? Signal = null, TimeSpan? HealthTimeout = null, TimeSpan? Grace = null);
