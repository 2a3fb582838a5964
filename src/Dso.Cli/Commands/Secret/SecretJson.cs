namespace Dso.Cli.Commands.Secret;

/// <summary>`secret get --json`: metadata of one version, never the value.</summary>
internal sealed record SecretMetadataJson(string Name, uint Version, DateTimeOffset UpdatedAt, int Length, bool Current);

/// <summary>One row of `secret list --json`.</summary>
internal sealed record SecretListItemJson(string Name, uint Version, DateTimeOffset UpdatedAt, int VersionsKept);

/// <summary>One row of `secret history --json`.</summary>
internal sealed record SecretVersionJson(uint Version, DateTimeOffset CreatedAt, int Length, bool Current);

/// <summary>`secret set --json` and each secret of `secret import --json`: what the write did (never the value).</summary>
internal sealed record SecretWriteJson(string Name, uint Version, bool Created, bool Changed);

/// <summary>`secret rm --json`.</summary>
internal sealed record SecretRemovedJson(string Name, bool Removed);

/// <summary>`secret import --json`.</summary>
internal sealed record SecretImportJson(string File, IReadOnlyList<SecretWriteJson> Secrets, IReadOnlyList<string> Skipped);
