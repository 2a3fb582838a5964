namespace Dso.Injection.Compose;

/// <summary>
/// Splits a command line meant for compose into the global options that choose the project
/// (-f/--file, -p/--project-name, --project-directory, --env-file, --profile) and everything
/// else, kept in order for the subcommand.
/// </summary>
internal static class ComposeArguments
{
    /// <param name="args">The arguments after the DSO command.</param>
    /// <param name="anywhere">True for `up`/`down`, whose own flags never clash with these; false to stop at the first non-option (a subcommand).</param>
    public static (ComposeOptions Options, List<string> Remaining) Split(IReadOnlyList<string> args, bool anywhere)
    {
        var files = new List<string>();
        var profiles = new List<string>();
        string? project = null, directory = null, envFile = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!anywhere && rest.Count > 0)
            {
                rest.Add(arg);
                continue;
            }

            var (name, inlineValue) = arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal)
                ? (arg[..arg.IndexOf('=', StringComparison.Ordinal)], arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..])
                : (arg, null);
            switch (name)
            {
                case "-f" or "--file":
                    files.Add(inlineValue ?? Value(args, ref i, name));
                    break;
                case "-p" or "--project-name":
                    project = inlineValue ?? Value(args, ref i, name);
                    break;
                case "--project-directory":
                    directory = inlineValue ?? Value(args, ref i, name);
                    break;
                case "--env-file":
                    envFile = inlineValue ?? Value(args, ref i, name);
                    break;
                case "--profile":
                    profiles.Add(inlineValue ?? Value(args, ref i, name));
                    break;
                default:
                    rest.Add(arg);
                    break;
            }
        }

        return (new ComposeOptions(files, project, directory, envFile, profiles), rest);
    }

    private static string Value(IReadOnlyList<string> args, ref int index, string option)
    {
        if (index + 1 >= args.Count)
        {
            throw new UsageException($"{option} needs a value");
        }

        index++;
        return args[index];
    }
}
