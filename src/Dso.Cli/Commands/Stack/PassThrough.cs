using System.CommandLine;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// Commands that hand their arguments to compose take them from the raw command line, in order,
/// rather than from the parser (which would separate option-like tokens from the others).
/// </summary>
internal static class PassThrough
{
    public static Argument<string[]> Argument(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.ZeroOrMore };

    /// <summary>The raw arguments after the first occurrence of <paramref name="command"/>, without DSO's own --config.</summary>
    public static IReadOnlyList<string> After(CliContext context, string command)
    {
        var raw = context.RawArguments;
        var index = raw.ToList().IndexOf(command);
        var rest = new List<string>();
        for (var i = index + 1; index >= 0 && i < raw.Count; i++)
        {
            if (raw[i] == "--config")
            {
                i++;
                continue;
            }

            if (!raw[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                rest.Add(raw[i]);
            }
        }

        return rest;
    }
}
