using System.Diagnostics;

namespace Dso.Cli;

/// <summary>
/// What DSO does on a terminal and nowhere else: colour the verdict words of its tables (only when
/// standard output is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`) and show a progress
/// line on standard error while long work runs (only when standard error is a terminal). Piped
/// output, JSON and logs stay plain.
/// </summary>
internal static class Terminal
{
    private const string Reset = "\u001b[0m";

    private static readonly Dictionary<string, string> Tones = new(StringComparer.Ordinal)
    {
        ["ok"] = Green, ["pass"] = Green, ["passed"] = Green, ["rotated"] = Green, ["sent"] = Green, ["closed"] = Green, ["running"] = Green, ["healthy"] = Green, ["valid"] = Green,
        ["warn"] = Yellow, ["warning"] = Yellow, ["skipped"] = Yellow, ["half-open"] = Yellow, ["degraded"] = Yellow, ["unknown"] = Yellow,
        ["ERROR"] = Red, ["error"] = Red, ["fail"] = Red, ["failed"] = Red, ["FAILED"] = Red, ["open"] = Red, ["exited"] = Red, ["dead"] = Red, ["unhealthy"] = Red, ["invalid"] = Red,
    };

    private const string Green = "\u001b[32m";
    private const string Yellow = "\u001b[33m";
    private const string Red = "\u001b[31m";

    public static bool UsesColor(CliContext context) =>
        context.OutputIsTerminal && context.GetEnvironmentVariable("NO_COLOR") is null && context.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>A table cell coloured by the verdict word it is or starts with (`sent (2 attempts)`), else as it is.</summary>
    public static string Paint(CliContext context, string cell)
    {
        if (!UsesColor(context) || cell.Length == 0)
        {
            return cell;
        }

        var space = cell.IndexOf(' ', StringComparison.Ordinal);
        return Tones.TryGetValue(space < 0 ? cell : cell[..space], out var tone) ? tone + cell + Reset : cell;
    }

    /// <summary>Shows `⠋ WHAT (3s)` on standard error until disposed, when standard error is a terminal; else nothing.</summary>
    public static IDisposable Progress(CliContext context, string what) =>
        context.ErrorIsTerminal && context.GetEnvironmentVariable("TERM") != "dumb" ? new ProgressLine(context.Error, what) : NoProgress.Instance;

    private sealed class NoProgress : IDisposable
    {
        public static readonly NoProgress Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class ProgressLine : IDisposable
    {
        private static readonly string[] Frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        private readonly TextWriter _error;
        private readonly string _what;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Timer _timer;
        private readonly Lock _gate = new();
        private int _frame;
        private int _width;
        private bool _done;

        public ProgressLine(TextWriter error, string what)
        {
            _error = error;
            _what = what;
            _timer = new Timer(_ => Draw(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(120));
        }

        public void Dispose()
        {
            _timer.Dispose();
            lock (_gate)
            {
                _done = true;
                _error.Write("\r" + new string(' ', _width) + "\r");
            }
        }

        private void Draw()
        {
            lock (_gate)
            {
                if (_done)
                {
                    return;
                }

                var line = $"{Frames[_frame++ % Frames.Length]} {_what} ({_clock.Elapsed.TotalSeconds:0}s)";
                _width = Math.Max(_width, line.Length);
                _error.Write("\r" + line.PadRight(_width));
            }
        }
    }
}
