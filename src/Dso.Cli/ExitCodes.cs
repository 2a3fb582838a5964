namespace Dso.Cli;

/// <summary>The process exit codes every command uses (spec 3.2).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
