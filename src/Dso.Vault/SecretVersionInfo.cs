namespace Dso.Vault;

/// <summary>One kept version of a secret, as `secret history` shows it: never its value.</summary>
public sealed record SecretVersionInfo(string Name, uint Version, DateTimeOffset CreatedAt, int Length, bool Current);
