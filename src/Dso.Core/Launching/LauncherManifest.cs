using System.Text;

namespace Dso.Launching;

/// <summary>
/// The file `up` writes beside a service's secrets (`.dso-manifest`) and dso-init reads before it
/// runs the application: which environment variable holds which reference, and the file (relative
/// to the secrets directory) that holds its value (`env`) or that the variable must point at
/// (`file`). No values. This source file is compiled into both Dso.Core and the launcher.
/// </summary>
internal static class LauncherManifest
{
    public const string FileName = ".dso-manifest";
    public const string Header = "dso-init manifest 1";

    public static string Write(IEnumerable<Entry> entries)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var entry in entries)
        {
            Check(entry);
            text.Append(entry.Kind == EntryKind.Env ? "env" : "file").Append('\t')
                .Append(entry.Variable).Append('\t')
                .Append(entry.Reference).Append('\t')
                .Append(entry.File).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Parses a manifest; throws <see cref="FormatException"/> naming the bad line.</summary>
    public static List<Entry> Parse(string text)
    {
        var lines = text.Split('\n');
        if (lines.Length == 0 || lines[0] != Header)
        {
            throw new FormatException($"the manifest does not start with '{Header}'");
        }

        var entries = new List<Entry>();
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            var fields = lines[i].Split('\t');
            if (fields.Length != 4 || fields[0] is not ("env" or "file"))
            {
                throw new FormatException($"manifest line {i + 1} is malformed");
            }

            var entry = new Entry(fields[0] == "env" ? EntryKind.Env : EntryKind.File, fields[1], fields[2], fields[3]);
            Check(entry);
            entries.Add(entry);
        }

        return entries;
    }

    private static void Check(Entry entry)
    {
        if (entry.Variable.Length == 0 || entry.Variable.IndexOfAny(['\t', '\n', '=', '\0']) >= 0)
        {
            throw new FormatException($"'{Shown(entry.Variable)}' cannot be an environment variable name in the manifest");
        }

        if (entry.Reference.IndexOfAny(['\t', '\n', '\0']) >= 0 || entry.Reference.Length == 0)
        {
            throw new FormatException($"the reference of {Shown(entry.Variable)} has a tab, newline or NUL");
        }

        if (entry.File.Length == 0 || entry.File.StartsWith('/') || entry.File.IndexOfAny(['\t', '\n', '\0']) >= 0
            || entry.File.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new FormatException($"the file of {Shown(entry.Variable)} ('{Shown(entry.File)}') is not a plain relative path");
        }
    }

    internal enum EntryKind
    {
        /// <summary>The variable's value is the content of the file.</summary>
        Env,

        /// <summary>The variable's value is the file's path inside the container.</summary>
        File,
    }

    internal sealed record Entry(EntryKind Kind, string Variable, string Reference, string File);

    /// <summary>Text from the manifest fit for a one-line error: control characters and line separators escaped.</summary>
    private static string Shown(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? $"\\x{(int)c:x2}" : c.ToString()));
}
