namespace Dso;

/// <summary>
/// A failure the user can act on. <see cref="Exception.Message"/> is one line that says what is
/// wrong, where, and how to fix it; it never holds a secret value.
/// </summary>
public class DsoException : Exception
{
    public DsoException(string message)
        : base(message)
    {
    }

    public DsoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DsoException()
    {
    }
}
