using System.Collections;
using System.Text;

namespace Dso.Cli;

/// <summary>
/// Everything a command may touch outside its own arguments: the standard streams, the
/// environment and the working directory. The process builds it once; tests build their own.
/// </summary>
internal sealed class CliContext
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public CliContext(
        Stream standardInput,
        Stream standardOutput,
        Stream standardError,
        IReadOnlyDictionary<string, string> environment,
        string workingDirectory)
    {
        StandardInput = standardInput;
        StandardOutput = standardOutput;
        Out = new StreamWriter(standardOutput, Utf8NoBom, leaveOpen: true) { AutoFlush = true };
        Error = new StreamWriter(standardError, Utf8NoBom, leaveOpen: true) { AutoFlush = true };
        Environment = environment;
        WorkingDirectory = workingDirectory;
    }

    /// <summary>Raw standard input, for values piped in (never echoed).</summary>
    public Stream StandardInput { get; }

    /// <summary>Raw standard output, for `secret get`, which must print bytes exactly.</summary>
    public Stream StandardOutput { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>
    /// What interpolation put in the files this command loaded (dso.yaml, compose), to be written
    /// back as `${NAME}` in any error it prints: an error quoting a value must not print what an
    /// environment variable held.
    /// </summary>
    public List<Func<string, string>> ErrorMasks { get; } = [];

    public string Masked(string message) => ErrorMasks.Aggregate(message, (text, mask) => mask(text));

    public string WorkingDirectory { get; }

    /// <summary>True when standard input is a terminal (a person can answer a prompt).</summary>
    public bool InputIsTerminal { get; init; }

    /// <summary>True when standard output is a terminal (colour is allowed, see <see cref="Terminal"/>).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>True when standard error is a terminal (a progress line is allowed).</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>Reads one line from the terminal without echoing it; null when there is no terminal.</summary>
    public Func<string, string?> ReadHidden { get; init; } = _ => null;

    /// <summary>Reads one line (echoed) from the terminal after a prompt; null when there is no terminal.</summary>
    public Func<string, string?> ReadLine { get; init; } = _ => null;

    /// <summary>The directory that exists when systemd is this host's init (see sd_booted(3)); tests point it elsewhere.</summary>
    public string SystemdMarker { get; init; } = "/run/systemd/system";

    /// <summary>The command line as DsoApp received it (after the plugin's `dso`), for commands that pass arguments through.</summary>
    public IReadOnlyList<string> RawArguments { get; set; } = [];

    /// <summary>The --config file given on the command line, if any (else dso.yaml is looked up).</summary>
    public string? ConfigPath { get; set; }

    public string? GetEnvironmentVariable(string name) =>
        Environment.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public static CliContext FromProcess()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = (string?)entry.Value ?? string.Empty;
        }

        return new CliContext(
            Console.OpenStandardInput(),
            Console.OpenStandardOutput(),
            Console.OpenStandardError(),
            environment,
            Directory.GetCurrentDirectory())
        {
            InputIsTerminal = !Console.IsInputRedirected,
            OutputIsTerminal = !Console.IsOutputRedirected,
            ErrorIsTerminal = !Console.IsErrorRedirected,
            ReadHidden = TerminalPrompt.ReadHidden,
            ReadLine = TerminalPrompt.ReadLine,
        };
    }
}
