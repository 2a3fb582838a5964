namespace Dso.Vault;

/// <summary>What `secret list` shows of a secret: never its value.</summary>
public sealed record SecretInfo(string Name, uint Version, DateTimeOffset UpdatedAt, int VersionsKept);
