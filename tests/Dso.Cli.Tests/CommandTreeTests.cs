using System.CommandLine;

namespace Dso.Cli.Tests;

public sealed class CommandTreeTests
{
    public static TheoryData<string> AllCommandPaths()
    {
        var data = new TheoryData<string>();
        using var sink = new MemoryStream();
        var context = new CliContext(sink, sink, sink, new Dictionary<string, string>(), "/");
        foreach (var path in Walk(DsoApp.CreateRootCommand(context), string.Empty))
        {
            data.Add(path);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllCommandPaths))]
    public async Task EveryCommand_AnswersHelpWithUsageAndExitsZero(string commandPath)
    {
        var args = commandPath.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("--help").ToArray();

        var run = await CliHarness.RunAsync(args);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Contains("Usage:", run.StandardOutput, StringComparison.Ordinal);
        // The command's own help, never the root's in its place.
        var lines = run.StandardOutput.ReplaceLineEndings("\n").Split('\n');
        var usage = lines[Array.IndexOf(lines, "Usage:") + 1].Trim();
        Assert.Matches($"^\\S+{(commandPath.Length == 0 ? string.Empty : " " + System.Text.RegularExpressions.Regex.Escape(commandPath))}( |$)", usage);
        Assert.Empty(run.StandardError);
    }

    private static IEnumerable<string> Walk(Command command, string prefix)
    {
        yield return prefix;
        // Hidden commands (provider-plugin) are started by DSO itself, not typed by users.
        foreach (var child in command.Subcommands.Where(c => !c.Hidden))
        {
            foreach (var path in Walk(child, $"{prefix} {child.Name}".Trim()))
            {
                yield return path;
            }
        }
    }
}
