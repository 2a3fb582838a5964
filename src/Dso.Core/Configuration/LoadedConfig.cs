namespace Dso.Configuration;

/// <summary>The effective configuration and the file it came from (null: none found, defaults apply).</summary>
internal sealed record LoadedConfig(DsoConfig Config, string? Path)
{
    /// <summary>Writes the values environment variables gave the file back as `${NAME}` in a message about it.</summary>
    public Func<string, string> Mask { get; init; } = message => message;
}
