using Microsoft.Extensions.Logging.Console;

namespace Dso.Agent.Observability;

/// <summary>Options of <see cref="DsoConsoleFormatter"/>.</summary>
internal sealed class DsoConsoleFormatterOptions : ConsoleFormatterOptions
{
    public bool Json { get; set; }
}
