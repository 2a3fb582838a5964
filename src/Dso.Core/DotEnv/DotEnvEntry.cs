namespace Dso.DotEnv;

/// <summary>One `KEY=VALUE` of a dotenv file, with the line it started on.</summary>
public sealed record DotEnvEntry(string Key, string Value, int Line)
{
    /// <summary>The line the entry ends on (a quoted value may span lines).</summary>
    public int EndLine { get; init; } = Line;

    public override string ToString() => $"{Key} (line {Line})";
}
