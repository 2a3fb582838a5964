using System.Text;

namespace Dso.DotEnv;

/// <summary>
/// Parses dotenv files the way Compose and python-dotenv read them: comments, blank lines, an
/// optional `export`, unquoted values (trimmed, ` #` starts a comment), single quotes (literal)
/// and double quotes (with \n \r \t \" \\ \$ escapes), both allowed to span lines.
/// Errors name the file and line.
/// </summary>
public static class DotEnvParser
{
    public static IReadOnlyList<DotEnvEntry> Parse(string text, string source)
    {
        var entries = new List<DotEnvEntry>();
        var reader = new Cursor(text.Replace("\r\n", "\n", StringComparison.Ordinal), source);
        while (!reader.AtEnd)
        {
            reader.SkipBlank();
            if (reader.AtEnd)
            {
                break;
            }

            if (reader.Peek == '#')
            {
                reader.SkipLine();
                continue;
            }

            var line = reader.Line;
            var key = reader.ReadKey();
            reader.SkipSpaces();
            if (reader.AtEnd || reader.Peek != '=')
            {
                throw reader.Error(line, $"'{key}' has no '=' (write {key}=VALUE)");
            }

            reader.Advance();
            reader.SkipSpaces();
            var value = reader.ReadValue(line);
            entries.Add(new DotEnvEntry(key, value, line) { EndLine = reader.Line });
        }

        return entries;
    }

    private sealed class Cursor(string text, string source)
    {
        private int _position;

        public int Line { get; private set; } = 1;

        public bool AtEnd => _position >= text.Length;

        public char Peek => text[_position];

        public void Advance()
        {
            if (text[_position] == '\n')
            {
                Line++;
            }

            _position++;
        }

        public void SkipBlank()
        {
            while (!AtEnd && char.IsWhiteSpace(Peek))
            {
                Advance();
            }
        }

        public void SkipSpaces()
        {
            while (!AtEnd && Peek is ' ' or '\t')
            {
                Advance();
            }
        }

        public void SkipLine()
        {
            while (!AtEnd && Peek != '\n')
            {
                Advance();
            }
        }

        public string ReadKey()
        {
            var line = Line;
            var key = ReadWord();
            if (key == "export" && !AtEnd && Peek is ' ' or '\t')
            {
                SkipSpaces();
                key = ReadWord();
            }

            if (key.Length == 0 || char.IsDigit(key[0]))
            {
                var found = AtEnd ? "end of file" : $"'{Peek}'";
                throw Error(line, $"expected a variable name (letters, digits, '_', '.', '-', not starting with a digit) but found {(key.Length == 0 ? found : $"'{key}'")}");
            }

            return key;
        }

        public string ReadValue(int line)
        {
            if (AtEnd || Peek == '\n')
            {
                return string.Empty;
            }

            var value = Peek switch
            {
                '\'' => ReadQuoted('\'', line),
                '"' => ReadQuoted('"', line),
                _ => ReadUnquoted(),
            };
            SkipSpaces();
            if (!AtEnd && Peek == '#')
            {
                SkipLine();
            }

            if (!AtEnd && Peek != '\n')
            {
                throw Error(Line, $"unexpected '{Peek}' after the closing quote");
            }

            return value;
        }

        public DsoException Error(int line, string problem) => new($"{source}:{line}: {problem}");

        private string ReadWord()
        {
            var start = _position;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek is '_' or '.' or '-'))
            {
                Advance();
            }

            return text[start.._position];
        }

        private string ReadUnquoted()
        {
            var value = new StringBuilder();
            while (!AtEnd && Peek != '\n')
            {
                if (Peek == '#' && value.Length > 0 && value[^1] is ' ' or '\t')
                {
                    break;
                }

                value.Append(Peek);
                Advance();
            }

            return value.ToString().TrimEnd(' ', '\t');
        }

        private string ReadQuoted(char quote, int line)
        {
            Advance();
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Error(line, $"the value's opening {quote} is never closed");
                }

                var c = Peek;
                Advance();
                if (c == quote)
                {
                    return value.ToString();
                }

                if (c == '\\' && quote == '"' && !AtEnd)
                {
                    var escaped = Peek;
                    Advance();
                    value.Append(escaped switch
                    {
                        'n' => "\n",
                        'r' => "\r",
                        't' => "\t",
                        '"' => "\"",
                        '\\' => "\\",
                        '$' => "$",
                        _ => "\\" + escaped,
                    });
                    continue;
                }

                value.Append(c);
            }
        }
    }
}
