using System.Text;

namespace Dso.Yaml;

/// <summary>
/// Compose's variable substitution: `$$` → `$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`; defaults may
/// hold further substitutions. An unset variable without a default becomes "" (as compose does,
/// with a warning).
/// </summary>
internal sealed class Interpolator(IReadOnlyDictionary<string, string> variables)
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

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
                    ?? throw new DsoException($"{where}: invalid interpolation in '{text}': '${{' is never closed (write $$ for a literal $)");
                result.Append(Expand(text[(i + 2)..end], text, where));
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

    private string Expand(string expression, string text, string where)
    {
        var nameEnd = 0;
        while (nameEnd < expression.Length && IsNamePart(expression[nameEnd]))
        {
            nameEnd++;
        }

        var name = expression[..nameEnd];
        if (name.Length == 0 || !IsNameStart(name[0]))
        {
            throw new DsoException($"{where}: invalid interpolation '${{{expression}}}' in '{text}'");
        }

        var rest = expression[nameEnd..];
        variables.TryGetValue(name, out var value);
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
            _ => throw new DsoException($"{where}: invalid interpolation '${{{expression}}}' in '{text}'"),
        };
    }

    private string? Lookup(string name, string where)
    {
        if (variables.TryGetValue(name, out var value))
        {
            return value;
        }

        if (_warned.Add(name))
        {
            Warnings.Add($"{where}: the {name} variable is not set; defaulting to a blank string");
        }

        return null;
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
