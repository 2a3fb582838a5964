using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Dso.Agent.Observability;

/// <summary>
/// The agent's log lines: every message and exception text goes through the redactor. `text` is
/// one line per entry, prefixed with the syslog priority under systemd's journal (JOURNAL_STREAM),
/// else with the time; `json` is one object per line.
/// </summary>
internal sealed class DsoConsoleFormatter(IOptionsMonitor<DsoConsoleFormatterOptions> options, SecretRedactor redactor) : ConsoleFormatter(Name)
{
    public new const string Name = "dso";

    private static readonly bool UnderJournal = Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = redactor.Redact(logEntry.Formatter(logEntry.State, null) ?? string.Empty);
        var exception = logEntry.Exception is { } e ? redactor.Redact($"{e.GetType().Name}: {e.Message}") : null;
        if (options.CurrentValue.Json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("time", DateTimeOffset.UtcNow);
                writer.WriteString("level", Level(logEntry.LogLevel));
                writer.WriteString("category", logEntry.Category);
                writer.WriteString("message", message);
                if (exception is not null)
                {
                    writer.WriteString("exception", exception);
                }

                writer.WriteEndObject();
            }

            textWriter.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return;
        }

        var prefix = UnderJournal ? $"<{Priority(logEntry.LogLevel)}>" : $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} ";
        var category = logEntry.Category[(logEntry.Category.LastIndexOf('.') + 1)..];
        textWriter.WriteLine($"{prefix}{Level(logEntry.LogLevel)} {category}: {message.ReplaceLineEndings(" ")}{(exception is null ? string.Empty : " — " + exception.ReplaceLineEndings(" "))}");
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private static int Priority(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        LogLevel.Error => 3,
        _ => 2,
    };
}
