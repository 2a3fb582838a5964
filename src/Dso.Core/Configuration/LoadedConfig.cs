namespace Dso.Configuration;

/// <summary>The effective configuration and the file it came from (null: none found, defaults apply).</summary>
internal sealed record LoadedConfig(DsoConfig Config, string? Path);
