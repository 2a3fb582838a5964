namespace Dso.Secrets;

/// <summary>
/// Validates secret names: `project/path` segments of [A-Za-z0-9._-], no empty, `.` or `..`
/// segment, at most 255 characters.
/// </summary>
public static class SecretName
{
    public const int MaxLength = 255;

    /// <summary>Null when <paramref name="name"/> is valid, else why not (for an error message).</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "the name is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"the name is {name.Length} characters long; the limit is {MaxLength}";
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "the name has an empty segment (a leading, trailing or doubled '/')";
            }

            if (segment is "." or "..")
            {
                return $"the name has a '{segment}' segment";
            }

            foreach (var c in segment)
            {
                if (!IsAllowed(c))
                {
                    return $"the name has the character '{Printable(c)}'; names use letters, digits, '.', '_', '-' and '/' between segments";
                }
            }
        }

        return null;
    }

    /// <summary>Throws a <see cref="DsoException"/> naming the problem when the name is invalid.</summary>
    public static string Validate(string name)
    {
        if (Problem(name) is { } problem)
        {
            throw new DsoException($"invalid secret name '{Printable(name)}': {problem} (example: myapp/db_password)");
        }

        return name;
    }

    public static bool IsAllowed(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';

    private static string Printable(string text) =>
        string.Concat(text.Take(80).Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));

    private static string Printable(char c) => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString();
}
