using System.Text;

namespace Dso.Injection.Compose;

/// <summary>
/// Splits a string-form `entrypoint:`/`command:` into arguments the way Compose does (POSIX shell
/// word rules, as Python's shlex.split): whitespace separates, single quotes are literal, double
/// quotes allow \" \\ \$ \`, a backslash outside quotes escapes the next character.
/// </summary>
internal static class ShellWords
{
    public static List<string> Split(string text, string where)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new DsoException($"{where}: a single quote is never closed (the command is not shown: it may hold a secret)");
                    }

                    current.Append(text, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            throw new DsoException($"{where}: a double quote is never closed (the command is not shown: it may hold a secret)");
                        }

                        if (text[i] == '"')
                        {
                            break;
                        }

                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`' or '\n')
                        {
                            i++;
                        }

                        current.Append(text[i]);
                        i++;
                    }

                    break;
                case '\\':
                    if (i + 1 < text.Length)
                    {
                        i++;
                        current.Append(text[i]);
                    }

                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
