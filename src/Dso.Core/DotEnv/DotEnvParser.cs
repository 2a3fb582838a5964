using System.Text;

namespace Dso.DotEnv;

/// <summary>
/// Parses dotenv files the way Compose and python-dotenv read them: comments, blank lines, an
/// optional `export`, unquoted values (trimmed, ` #` starts a comment), single quotes (literal)
/// and double quotes (with \n \r \t \" \\ \$ escapes), both allowed to span lines.
/// Errors name the file, line and column and never quote the text: a dotenv file holds secrets, and
/// a line that fails to parse is as likely to be a PEM body or a token as a typo.
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
                throw reader.Error("expected '=' after the variable name (write NAME=VALUE; quote a value that spans lines)");
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
        private int _lineStart;

        public int Line { get; private set; } = 1;

        /// <summary>1-based column of the next character.</summary>
        public int Column => _position - _lineStart + 1;

        public bool AtEnd => _position >= text.Length;

        public char Peek => text[_position];

        public void Advance()
        {
            _position++;
            if (text[_position - 1] == '\n')
            {
                Line++;
                _lineStart = _position;
            }
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
            var (line, column) = (Line, Column);
            var key = ReadWord();
            if (key == "export" && !AtEnd && Peek is ' ' or '\t')
            {
                SkipSpaces();
                key = ReadWord();
            }

            if (key.Length == 0 || char.IsDigit(key[0]))
            {
                throw Error(line, column, "expected a variable name (letters, digits, '_', '.', '-', not starting with a digit)");
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
                throw Error("unexpected text after the closing quote (a comment starts with ' #')");
            }

            return value;
        }

        public DsoException Error(string problem) => Error(Line, Column, problem);

        public DsoException Error(int line, int column, string problem) => new($"{source}:{line}:{column}: {problem}");

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
            var column = Column;
            Advance();
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Error(line, column, $"the value's opening {quote} is never closed");
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
