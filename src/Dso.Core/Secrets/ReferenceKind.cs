namespace Dso.Secrets;

/// <summary>How a reference delivers its value (spec 3.3).</summary>
public enum ReferenceKind
{
    /// <summary>`dso://`: the environment variable receives the value.</summary>
    Env,

    /// <summary>`dsofile://`: the value is written to a file; the variable receives its path.</summary>
    File,
}
