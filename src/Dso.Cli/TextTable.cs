namespace Dso.Cli;

/// <summary>Left-aligned columns separated by two spaces, for human-readable listings.</summary>
internal static class TextTable
{
    /// <summary>A table on the command's standard output, its verdict words coloured on a terminal (<see cref="Terminal.Paint"/>).</summary>
    public static void Write(CliContext context, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows) =>
        Write(context.Out, headers, rows, cell => Terminal.Paint(context, cell));

    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, Func<string, string>? paint = null)
    {
        var body = rows.ToList();
        var all = body.Prepend(headers).ToList();
        var widths = headers.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        for (var index = 0; index < all.Count; index++)
        {
            var row = all[index];
            var cells = row.Select((cell, column) =>
            {
                var shown = index == 0 || paint is null ? cell : paint(cell);
                return column == row.Count - 1 ? shown : shown + new string(' ', widths[column] - cell.Length);
            });
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
