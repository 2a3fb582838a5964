namespace Dso;

/// <summary>
/// A failure the user can act on. <see cref="Exception.Message"/> is one line that says what is
/// wrong, where, and how to fix it; it never holds a secret value. Line breaks in text it quotes
/// from the input (a YAML scalar, a reference) are shown as \n, so the message stays one line.
/// </summary>
public class DsoException : Exception
{
    public DsoException(string message)
        : base(OneLine(message))
    {
    }

    public DsoException(string message, Exception innerException)
        : base(OneLine(message), innerException)
    {
    }

    public DsoException()
    {
    }

    /// <summary>The message with CR, LF and the Unicode line separators escaped.</summary>
    public static string OneLine(string message) =>
        message.IndexOfAny(['\r', '\n', '\u2028', '\u2029', '\u0085']) < 0
            ? message
            : message.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
                .Replace("\u2028", "\\u2028", StringComparison.Ordinal).Replace("\u2029", "\\u2029", StringComparison.Ordinal).Replace("\u0085", "\\u0085", StringComparison.Ordinal);
}
