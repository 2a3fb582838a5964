using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dso.Yaml;

/// <summary>
/// Reads one YAML file (a compose file, dso.yaml) into <see cref="YNode"/>s: merge keys
/// (`&lt;&lt;: *anchor`) and aliases resolved, every scalar value interpolated, syntax errors
/// reported with file:line:column.
/// </summary>
internal static class YamlReader
{
    public static YMap Load(string path, string text, Interpolator interpolator)
    {
        var name = Path.GetFileName(path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new MergingParser(new Parser(new StringReader(text))));
        }
        catch (YamlException e)
        {
            throw new DsoException($"{path}:{e.Start.Line}:{e.Start.Column}: YAML error: {FirstLine(e.Message)}");
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's merge-key handling throws these for a `<<:` whose anchor is not defined (yet).
            throw new DsoException($"{path}: YAML error: a merge key (<<) or alias names an anchor that is not defined before it ({FirstLine(e.Message)})");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            throw new DsoException($"{path}: the file is empty");
        }

        return Convert(stream.Documents[0].RootNode, name, interpolator) as YMap
            ?? throw new DsoException($"{path}:1: the top level must be a mapping of keys to values");
    }

    private static YNode Convert(YamlNode node, string file, Interpolator interpolator)
    {
        var line = (int)node.Start.Line;
        switch (node)
        {
            case YamlMappingNode map:
                var entries = new List<KeyValuePair<string, YNode>>();
                var keyLines = new List<int>();
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } keyText })
                    {
                        throw new DsoException($"{file}:{key.Start.Line}: mapping keys must be plain strings");
                    }

                    entries.Add(new(keyText, Convert(value, file, interpolator)));
                    keyLines.Add((int)key.Start.Line);
                }

                return new YMap(file, line, entries, keyLines);
            case YamlSequenceNode sequence:
                return new YSeq(file, line, [.. sequence.Children.Select(c => Convert(c, file, interpolator))]);
            case YamlScalarNode scalar:
                var isNull = scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
                return new YScalar(file, line, isNull ? null : interpolator.Apply(scalar.Value ?? string.Empty, $"{file}:{line}"));
            default:
                throw new DsoException($"{file}:{line}: unsupported YAML node");
        }
    }

    private static string FirstLine(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline];
    }
}
