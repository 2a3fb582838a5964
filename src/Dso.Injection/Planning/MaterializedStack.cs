namespace Dso.Injection.Planning;

/// <summary>Where each service's secrets were written (a host path) and their fingerprint.</summary>
internal sealed record MaterializedStack(IReadOnlyDictionary<string, (string Directory, string Fingerprint)> Services, int SecretCount);
