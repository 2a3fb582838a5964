using System.Text;

namespace Dso.Cli;

/// <summary>Reads a line from the terminal with echo off, for passphrases and secret values.</summary>
internal static class TerminalPrompt
{
    /// <summary>A line typed at the terminal, echoed; null when standard input is not a terminal.</summary>
    public static string? ReadLine(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Error.Write(prompt);
        return Console.ReadLine();
    }

    public static string? ReadHidden(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Error.Write(prompt);
        var line = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (line.Length > 0)
                {
                    line.Length--;
                }

                continue;
            }

            if (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control))
            {
                Console.Error.WriteLine();
                throw new OperationCanceledException("prompt cancelled");
            }

            if (key.KeyChar != '\0')
            {
                line.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return line.ToString();
    }
}
