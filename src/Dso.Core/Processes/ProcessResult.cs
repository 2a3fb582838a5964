namespace Dso.Processes;

/// <summary>How a child process ended and what it printed (empty when its output was not captured).</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}
