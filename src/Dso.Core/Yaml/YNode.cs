namespace Dso.Yaml;

/// <summary>
/// A compose document after parsing and interpolation: maps, sequences and scalars, each with the
/// file and line it came from so errors can point at it.
/// </summary>
internal abstract record YNode(string File, int Line)
{
    public string Where => $"{File}:{Line}";
}

/// <summary>A mapping; keys keep their order.</summary>
internal sealed record YMap(string File, int Line, IReadOnlyList<KeyValuePair<string, YNode>> Entries, IReadOnlyList<int>? KeyLines = null) : YNode(File, Line)
{
    public YNode? this[string key] => Entries.LastOrDefault(e => e.Key == key).Value;

    /// <summary>`file:line` of the entry's key (the value of a nested mapping starts a line below it).</summary>
    public string WhereKey(int entry) => KeyLines is { } lines && entry < lines.Count ? $"{File}:{lines[entry]}" : Entries[entry].Value.Where;
}

/// <summary>A sequence.</summary>
internal sealed record YSeq(string File, int Line, IReadOnlyList<YNode> Items) : YNode(File, Line);

/// <summary>A scalar, interpolated; <see cref="Value"/> is null for YAML null (`~`, empty).</summary>
internal sealed record YScalar(string File, int Line, string? Value) : YNode(File, Line);
