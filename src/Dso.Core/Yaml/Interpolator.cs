using System.Text;

namespace Dso.Yaml;

/// <summary>
/// Compose's variable substitution: `$$` → `$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`; defaults may
/// hold further substitutions. An unset variable without a default becomes "" (as compose does,
/// with a warning). The vault's credentials are never substituted (compose, DSO's child, never sees
/// them either). Errors name the file and line, never the text: it may be a password written in
/// plain text; and <see cref="Mask"/> takes every substituted value back out of a message.
/// </summary>
internal sealed class Interpolator(IReadOnlyDictionary<string, string> variables)
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _substituted = new(StringComparer.Ordinal);

    public List<string> Warnings { get; } = [];

    public string Apply(string text, string where)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '$')
            {
                result.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
            {
                result.Append('$');
                i++;
            }
            else if (text[i + 1] == '$')
            {
                result.Append('$');
                i += 2;
            }
            else if (text[i + 1] == '{')
            {
                var end = FindClosingBrace(text, i + 2)
                    ?? throw new DsoException($"{where}: invalid interpolation: '${{' is never closed (write $$ for a literal $)");
                result.Append(Expand(text[(i + 2)..end], where));
                i = end + 1;
            }
            else if (IsNameStart(text[i + 1]))
            {
                var start = i + 1;
                var end = start;
                while (end < text.Length && IsNamePart(text[end]))
                {
                    end++;
                }

                result.Append(Lookup(text[start..end], where) ?? string.Empty);
                i = end;
            }
            else
            {
                result.Append('$');
                i++;
            }
        }

        return result.ToString();
    }

    /// <summary>Escapes text so that interpolation gives it back unchanged (for generated compose files).</summary>
    public static string Escape(string text) => text.Replace("$", "$$", StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="message"/> with every value a substitution put in the text written back as the
    /// variable (`${NAME}`): an error about a value must not print what an environment variable held.
    /// </summary>
    public string Mask(string message)
    {
        foreach (var (name, value) in _substituted.Where(s => s.Value.Length >= 4).OrderByDescending(s => s.Value.Length))
        {
            message = message.Replace(value, $"${{{name}}}", StringComparison.Ordinal);
        }

        return message;
    }

    private string Expand(string expression, string where)
    {
        var nameEnd = 0;
        while (nameEnd < expression.Length && IsNamePart(expression[nameEnd]))
        {
            nameEnd++;
        }

        var name = expression[..nameEnd];
        if (name.Length == 0 || !IsNameStart(name[0]))
        {
            throw new DsoException($"{where}: invalid interpolation: '${{' must be followed by a variable name");
        }

        var rest = expression[nameEnd..];
        var value = Value(name);
        if (rest.Length == 0)
        {
            return value ?? Lookup(name, where) ?? string.Empty;
        }

        var colon = rest.StartsWith(':');
        var op = colon ? (rest.Length > 1 ? rest[1] : '\0') : rest[0];
        var argument = rest.Length > (colon ? 2 : 1) ? rest[(colon ? 2 : 1)..] : string.Empty;
        var unset = colon ? string.IsNullOrEmpty(value) : value is null;
        return op switch
        {
            '-' => unset ? Apply(argument, where) : value!,
            '+' => unset ? string.Empty : Apply(argument, where),
            '?' => unset
                ? throw new DsoException($"{where}: required variable {name} is {(value is null ? "not set" : "empty")}{(argument.Length > 0 ? ": " + argument : string.Empty)}")
                : value!,
            _ => throw new DsoException($"{where}: invalid interpolation of {name}: after the name comes '}}', or one of :- - :+ + :? ? and a default"),
        };
    }

    private string? Lookup(string name, string where)
    {
        if (Value(name) is { } value)
        {
            return value;
        }

        if (_warned.Add(name))
        {
            Warnings.Add($"{where}: the {name} variable is not set; defaulting to a blank string");
        }

        return null;
    }

    /// <summary>The variable's value (remembered for <see cref="Mask"/>), or null when unset or withheld.</summary>
    private string? Value(string name)
    {
        if (Processes.ChildEnvironment.IsWithheld(name) || !variables.TryGetValue(name, out var value))
        {
            return null;
        }

        _substituted[name] = value;
        return value;
    }

    private static int? FindClosingBrace(string text, int start)
    {
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '{' && i > 0 && text[i - 1] == '$')
            {
                depth++;
            }
            else if (text[i] == '}' && --depth == 0)
            {
                return i;
            }
        }

        return null;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
