namespace Dso.Processes;

/// <summary>How to run a child process. Arguments always travel as a list, never as one string.</summary>
public sealed record ChildProcessOptions
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set (or, with a null value, to remove) on top of the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>When set, the child inherits nothing but these variables (plus <see cref="Environment"/>).</summary>
    public IReadOnlyDictionary<string, string>? BaseEnvironment { get; init; }

    /// <summary>Bytes written to the child's stdin, which is then closed. Null: stdin is closed at once.</summary>
    public ReadOnlyMemory<byte>? StandardInput { get; init; }

    /// <summary>When true the child writes straight to this process's stdout/stderr (compose progress).</summary>
    public bool InheritOutput { get; init; }

    /// <summary>
    /// When set, the child's standard output and standard error are copied here line by line as
    /// they arrive (a followed log), instead of being collected into the result.
    /// </summary>
    public (TextWriter Output, TextWriter Error)? StreamTo { get; init; }

    /// <summary>The child is killed (with its process tree) when it runs longer than this.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}
