namespace Dso.Vault;

/// <summary>What writing a value did: a new version, or nothing because the value was already current.</summary>
public sealed record SetOutcome(string Name, uint Version, bool Changed, bool Created);
