namespace Dso.Testing;

/// <summary>What one in-process run of a command line printed and returned.</summary>
public sealed record CliRun(int ExitCode, byte[] StandardOutputBytes, string StandardError)
{
    public string StandardOutput => System.Text.Encoding.UTF8.GetString(StandardOutputBytes);

    public override string ToString() => $"exit {ExitCode}; stdout: {StandardOutput}; stderr: {StandardError}";
}
