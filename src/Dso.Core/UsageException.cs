namespace Dso;

/// <summary>The command line itself is wrong (exit code 2 rather than 1).</summary>
public sealed class UsageException : DsoException
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UsageException()
    {
    }
}
